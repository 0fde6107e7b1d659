using Tapster.Configuration;
using Tapster.Edge;
using Tapster.Tls.Acme;
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
            Doc = "HTTPS addresses, HOST:PORT (0.0.0.0:443), or fd://N for a socket systemd passes (socket activation): HTTP/1.1 and HTTP/2 by ALPN, TLS 1.2 and 1.3 only. With any, the plain --bind listeners answer 308 to the same URL on HTTPS, except /.well-known/acme-challenge/. The flag repeats; its environment twin is comma-separated. See docs/tls.md.",
            DefaultDoc = "`[]` (no TLS)",
            Check = CheckListen,
            CheckTogether = s => s.Tls.Enabled && s.Tls.Certificates.Count == 0 && !s.Tls.AcmeEnabled
                ? "needs at least one certificate in tls.certificates (or --tls-cert CERT=KEY) or a name in tls.acme_domains"
                : null,
            Get = s => s.Tls.Listen, Set = (s, v) => s with { Tls = s.Tls with { Listen = v } },
        },
        new TypedSetting<IReadOnlyList<CertificateFiles>>
        {
            Key = "tls.certificates", Flag = "--tls-cert", Placeholder = "CERT=KEY", Parser = CertificatesParser,
            Doc = "PEM certificates (the server's first, then its chain) and their PEM private keys: `[{ cert = \"example.pem\", key = \"example.key\" }]` (or one `[[tls.certificates]]` table each), relative to the config file. SNI picks the one whose SAN names the host (wildcards too); the first is the default. Changed files are picked up within seconds, without a restart. The flag repeats (`--tls-cert cert.pem=key.pem`, relative to the current directory); its environment twin is comma-separated.",
            DefaultDoc = "`[]`",
            Check = CheckCertificates,
            Get = s => s.Tls.Certificates, Set = (s, v) => s with { Tls = s.Tls with { Certificates = v } },
        },
        new TypedSetting<IReadOnlyList<string>>
        {
            Key = "tls.acme_domains", Flag = "--acme-domain", Placeholder = "NAME", Parser = ValueParsers.TextList,
            Doc = "Host names to get certificates for automatically over ACME (RFC 8555), one certificate each, kept in the state directory (.tapster/acme/) and renewed when a third of their lifetime is left. Needs tls.listen, and the plain listener on port 80 (HTTP-01) or the TLS one on 443 (TLS-ALPN-01) reachable from the internet. The flag repeats; its environment twin is comma-separated. See docs/tls.md.",
            DefaultDoc = "`[]` (no ACME)",
            Check = CheckDomains,
            CheckTogether = s => s.Tls.AcmeEnabled && !s.Tls.Enabled ? "needs tls.listen: the certificates are for an HTTPS listener" : null,
            Get = s => s.Tls.AcmeDomains, Set = (s, v) => s with { Tls = s.Tls with { AcmeDomains = v } },
        },
        new TypedSetting<string?>
        {
            Key = "tls.acme_email", Flag = "--acme-email", Placeholder = "EMAIL", Parser = ValueParsers.OptionalText,
            Doc = "Contact address of the ACME account, for the CA's expiry and policy mail.",
            DefaultDoc = "none",
            Check = email => email is null || (email.Contains('@', StringComparison.Ordinal) && !email.Any(c => char.IsWhiteSpace(c) || c == ','))
                ? null
                : $"'{email}' is not an email address",
            Get = s => s.Tls.AcmeEmail, Set = (s, v) => s with { Tls = s.Tls with { AcmeEmail = v } },
        },
        new TypedSetting<string?>
        {
            Key = "tls.acme_directory", Flag = "--acme-directory", Placeholder = "URL", Parser = ValueParsers.OptionalText,
            Doc = "The ACME server's directory URL (https).",
            DefaultDoc = $"Let's Encrypt, {TlsSettings.LetsEncryptProduction}",
            Check = url => url is null || (Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps)
                ? null
                : $"'{url}' is not an https URL",
            Get = s => s.Tls.AcmeDirectory, Set = (s, v) => s with { Tls = s.Tls with { AcmeDirectory = v } },
        },
        new TypedSetting<bool>
        {
            Key = "tls.acme_staging", Flag = "--acme-staging", Parser = ValueParsers.Boolean,
            Doc = $"Use Let's Encrypt's staging CA ({TlsSettings.LetsEncryptStaging}): generous rate limits, certificates no browser trusts; for trying a setup out.",
            CheckTogether = s => s.Tls.AcmeStaging && s.Tls.AcmeDirectory is not null ? "cannot be combined with tls.acme_directory (staging is a directory of its own)" : null,
            Get = s => s.Tls.AcmeStaging, Set = (s, v) => s with { Tls = s.Tls with { AcmeStaging = v } },
        },
        new TypedSetting<string?>
        {
            Key = "tls.acme_ca", Flag = "--acme-ca", Placeholder = "PEM", Parser = ValueParsers.OptionalFile,
            Doc = "A PEM file of extra root certificates trusted for the HTTPS connection to the ACME server, beside the system's: for a private CA or a test server such as pebble. Not needed for Let's Encrypt.",
            DefaultDoc = "none (the system's roots)",
            Check = CheckAcmeCa,
            Get = s => s.Tls.AcmeCa, Set = (s, v) => s with { Tls = s.Tls with { AcmeCa = v } },
        },
        new TypedSetting<string>
        {
            Key = "tls.acme_challenge", Flag = "--acme-challenge", Placeholder = "TYPE", Parser = ValueParsers.Text,
            Doc = "How the CA checks that the names are ours: \"http-01\" (a token served on the plain listener, which must be on port 80) or \"tls-alpn-01\" (RFC 8737, a handshake on the TLS listener, which must be on port 443).",
            Check = type => type is ChallengeTypes.Http01 or ChallengeTypes.TlsAlpn01
                ? null
                : $"'{type}' is not a supported challenge (use \"{ChallengeTypes.Http01}\" or \"{ChallengeTypes.TlsAlpn01}\")",
            Get = s => s.Tls.AcmeChallenge, Set = (s, v) => s with { Tls = s.Tls with { AcmeChallenge = v } },
        },
    ];

    private static string? CheckDomains(IReadOnlyList<string> domains)
    {
        if (domains.GroupBy(d => d, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            return $"'{twice.Key}' is listed twice";
        }

        foreach (var domain in domains)
        {
            if (domain.StartsWith("*.", StringComparison.Ordinal))
            {
                return $"'{domain}': wildcard certificates need the DNS-01 challenge, which Tapster does not answer; list the names instead";
            }

            if (System.Net.IPAddress.TryParse(domain, out _) || Uri.CheckHostName(domain) != UriHostNameType.Dns || !domain.Contains('.', StringComparison.Ordinal))
            {
                return $"'{domain}' is not a fully qualified host name (like example.com)";
            }
        }

        return null;
    }

    private static string? CheckAcmeCa(string? path)
    {
        if (path is null)
        {
            return null;
        }

        return AcmeTrust.LoadRoots(path, out var error) is null ? error : null;
    }

    private static string? CheckListen(IReadOnlyList<string> addresses)
    {
        foreach (var address in addresses)
        {
            if (!BindAddress.TryParse(address, out var endPoint, out var error))
            {
                return error;
            }

            if (endPoint is System.Net.Sockets.UnixDomainSocketEndPoint)
            {
                return $"'{address}': TLS listens on TCP sockets (HOST:PORT or fd://N); a Unix socket belongs in http.listen (--bind), behind a proxy that terminates TLS";
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
