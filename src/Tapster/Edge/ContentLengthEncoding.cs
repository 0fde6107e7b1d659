using System.Text;

namespace Tapster.Edge;

/// <summary>
/// How Kestrel decodes a request's Content-Length: digits (and the spaces and tabs around them) pass,
/// every other byte becomes 'x', so the number fails to parse and the request gets 400.
///
/// RFC 9110 8.6 allows only digits, and RFC 9112 6.3 makes any other Content-Length a fatal framing
/// error. Kestrel's own parsers are lenient: its default one takes "+5" and "-0", and with a decoding
/// of ours it parses the string with long.TryParse, which also takes vertical tabs and form feeds. A
/// proxy in front that ignores such a header would send the body on as the next request: smuggling.
/// nginx refuses them too.
/// </summary>
internal sealed class ContentLengthEncoding : Encoding
{
    public static readonly ContentLengthEncoding Instance = new();

    private const char Refused = 'x';

    public override int GetByteCount(char[] chars, int index, int count) => count;

    public override int GetBytes(char[] chars, int charIndex, int charCount, byte[] bytes, int byteIndex) =>
        Latin1.GetBytes(chars, charIndex, charCount, bytes, byteIndex);

    public override int GetCharCount(byte[] bytes, int index, int count) => count;

    public override int GetChars(byte[] bytes, int byteIndex, int byteCount, char[] chars, int charIndex)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ArgumentNullException.ThrowIfNull(chars);
        return GetChars(bytes.AsSpan(byteIndex, byteCount), chars.AsSpan(charIndex));
    }

    public override int GetChars(ReadOnlySpan<byte> bytes, Span<char> chars)
    {
        // Kestrel decodes into room for 20 characters, refuses more than 19 with 400, and drops the
        // connection without an answer when decoding throws, as Latin1 would here. A value longer than
        // the room given (leading zeros included) fills it with refused characters instead.
        if (chars.Length < bytes.Length)
        {
            chars.Fill(Refused);
            return chars.Length;
        }

        for (var i = 0; i < bytes.Length; i++)
        {
            var b = bytes[i];
            chars[i] = b is (>= (byte)'0' and <= (byte)'9') or (byte)' ' or (byte)'\t' ? (char)b : Refused;
        }

        return bytes.Length;
    }

    // What Kestrel's GetString(ReadOnlySpan<byte>) ends up calling; the defaults would copy through arrays.
    public override unsafe int GetCharCount(byte* bytes, int count) => count;

    public override unsafe int GetChars(byte* bytes, int byteCount, char* chars, int charCount) =>
        GetChars(new ReadOnlySpan<byte>(bytes, byteCount), new Span<char>(chars, charCount));

    public override int GetMaxByteCount(int charCount) => charCount;

    public override int GetMaxCharCount(int byteCount) => byteCount;
}
