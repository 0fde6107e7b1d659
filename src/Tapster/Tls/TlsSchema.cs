using Tapster.Configuration;
using Tapster.Edge;
using Tomlyn.Syntax;

namespace Tapster.Tls;

/// <summary>The <c>[tls]</c> entries of <see cref="SettingsSchema"/>.</summary>
internal static class TlsSchema
{
    private const string CertificatesShape = "an array of { cert = \"cert.pem\", key = \"key.pem\" } tables";

    // The parser comes first: static initializers run in order, and Settings uses it.
    private static ValueParser<IReadOnlyList<CertificateFiles>> CertificatesParser { get; } = new()
    {
        TypeName = "array of { cert, key } tables",
        HelpName = "CERT=KEY",
        Shape = CliShape.List,
        FromText = ParseFlag,
        FromToml = ParseToml,
        Format = list => "[" + string.Join(", ", list.Select(c => $"{{ cert = {ValueParsers.Quote(c.Cert)}, key = {ValueParsers.Quote(c.Key)} }}")) + "]",
    };

    public static IReadOnlyList<Setting> Settings { get; } =
    [
        new TypedSetting<IReadOnlyList<string>>
        {
            Key = "tls.listen", Flag = "--tls-bind", Placeholder = "HOST:PORT", Parser = ValueParsers.TextList,
            Doc = "HTTPS addresses, HOST:PORT (0.0.0.0:443): HTTP/1.1 and HTTP/2 by ALPN, TLS 1.2 and 1.3 only. With any, the plain --bind listeners answer 308 to the same URL on HTTPS, except /.well-known/acme-challenge/. The flag repeats; its environment twin is comma-separated. See docs/tls.md.",
            DefaultDoc = "`[]` (no TLS)",
            Check = CheckListen,
            CheckTogether = s => s.Tls.Enabled && s.Tls.Certificates.Count == 0
                ? "needs at least one certificate in tls.certificates (or --tls-cert CERT=KEY)"
                : null,
            Get = s => s.Tls.Listen, Set = (s, v) => s with { Tls = s.Tls with { Listen = v } },
        },
        new TypedSetting<IReadOnlyList<CertificateFiles>>
        {
            Key = "tls.certificates", Flag = "--tls-cert", Placeholder = "CERT=KEY", Parser = CertificatesParser,
            Doc = "PEM certificates (the server's first, then its chain) and their PEM private keys: `[{ cert = \"example.pem\", key = \"example.key\" }]`, relative to the config file. SNI picks the one whose SAN names the host (wildcards too); the first is the default. Changed files are picked up within seconds, without a restart. The flag repeats (`--tls-cert cert.pem=key.pem`, relative to the current directory); its environment twin is comma-separated.",
            DefaultDoc = "`[]`",
            Check = CheckCertificates,
            Get = s => s.Tls.Certificates, Set = (s, v) => s with { Tls = s.Tls with { Certificates = v } },
        },
    ];

    private static string? CheckListen(IReadOnlyList<string> addresses)
    {
        foreach (var address in addresses)
        {
            if (!BindAddress.TryParse(address, out _, out var error))
            {
                return error;
            }
        }

        return null;
    }

    /// <summary>Loads them now, so a wrong file stops `config check` and start-up, not the first handshake.</summary>
    private static string? CheckCertificates(IReadOnlyList<CertificateFiles> certificates)
    {
        foreach (var files in certificates)
        {
            if (CertificateLoader.Load(files, out var error) is null)
            {
                return error;
            }
        }

        return null;
    }

    private static Parsed<IReadOnlyList<CertificateFiles>> ParseFlag(string text)
    {
        var list = new List<CertificateFiles>();
        foreach (var item in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = item.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0 || equals == item.Length - 1)
            {
                return Parsed<IReadOnlyList<CertificateFiles>>.Fail($"'{item}' must be CERT=KEY (cert.pem=key.pem)");
            }

            list.Add(new CertificateFiles(Path.GetFullPath(item[..equals]), Path.GetFullPath(item[(equals + 1)..])));
        }

        return Parsed<IReadOnlyList<CertificateFiles>>.Ok(list);
    }

    private static Parsed<IReadOnlyList<CertificateFiles>> ParseToml(ValueSyntax value, string directory)
    {
        if (value is not ArraySyntax array)
        {
            return Parsed<IReadOnlyList<CertificateFiles>>.Fail($"must be {CertificatesShape}, got {ValueParsers.Describe(value)}");
        }

        var list = new List<CertificateFiles>();
        foreach (var item in array.Items)
        {
            if (item.Value is not InlineTableSyntax table)
            {
                return Parsed<IReadOnlyList<CertificateFiles>>.Fail($"must be {CertificatesShape}, but one item is {ValueParsers.Describe(item.Value!)}");
            }

            string? cert = null, key = null;
            foreach (var entry in table.Items.Select(i => i.KeyValue!))
            {
                var name = ConfigFile.KeyPath(entry.Key!);
                if (entry.Value is not StringValueSyntax { Value: { Length: > 0 } path } || name is not ("cert" or "key"))
                {
                    return Parsed<IReadOnlyList<CertificateFiles>>.Fail($"entries take cert = \"PATH\" and key = \"PATH\", got {name} = {ValueParsers.Describe(entry.Value!)}");
                }

                (cert, key) = name == "cert" ? (Path.GetFullPath(path, directory), key) : (cert, Path.GetFullPath(path, directory));
            }

            if (cert is null || key is null)
            {
                return Parsed<IReadOnlyList<CertificateFiles>>.Fail("entries need both cert and key");
            }

            list.Add(new CertificateFiles(cert, key));
        }

        return Parsed<IReadOnlyList<CertificateFiles>>.Ok(list);
    }
}
