using System.Buffers;
using System.Text;

namespace Tapster.Telemetry;

/// <summary>
/// Turns a process's output bytes, as they arrive in pieces, into lines: UTF-8 (a character split
/// between two reads stays whole; invalid bytes become U+FFFD), ending at LF with a CR before it
/// dropped. A lone CR (a progress bar's redraw) stays inside its line. Each line keeps at most one
/// char more than <see cref="MaxLineChars"/>, so that the writer can mark the cut: output without a
/// newline (a 1 GB print) costs at most that much memory.
/// </summary>
internal sealed class OutputLines(Action<string> onLine)
{
    /// <summary>Longest line kept whole.</summary>
    public const int MaxLineChars = 16 * 1024;

    private readonly Decoder _decoder = Encoding.UTF8.GetDecoder();
    private readonly StringBuilder _line = new();

    /// <summary>Decodes <paramref name="bytes"/>; every line they complete goes to the callback.</summary>
    public void Append(ReadOnlySpan<byte> bytes) => Decode(bytes, flush: false);

    /// <summary>At the end of the stream: the last line, if it had no newline, goes out too.</summary>
    public void Finish()
    {
        Decode([], flush: true);
        if (_line.Length > 0)
        {
            onLine(TakeLine());
        }
    }

    private void Decode(ReadOnlySpan<byte> bytes, bool flush)
    {
        var chars = ArrayPool<char>.Shared.Rent(4096);
        try
        {
            bool completed;
            do
            {
                _decoder.Convert(bytes, chars, flush, out var used, out var decoded, out completed);
                bytes = bytes[used..];
                Split(chars.AsSpan(0, decoded));
            }
            while (!completed);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(chars);
        }
    }

    private void Split(ReadOnlySpan<char> text)
    {
        int end;
        while ((end = text.IndexOf('\n')) >= 0)
        {
            Keep(text[..end]);
            onLine(TakeLine());
            text = text[(end + 1)..];
        }

        Keep(text);
    }

    private void Keep(ReadOnlySpan<char> chars) =>
        _line.Append(chars[..Math.Min(chars.Length, Math.Max(0, MaxLineChars + 1 - _line.Length))]);

    private string TakeLine()
    {
        var length = _line.Length > 0 && _line[^1] == '\r' ? _line.Length - 1 : _line.Length;
        var text = _line.ToString(0, length);
        _line.Clear();
        return text;
    }
}
