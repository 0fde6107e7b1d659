using System.Text;

namespace Tapster.Telemetry;

/// <summary>
/// Makes text that came from outside (a client's path, an app's output) safe for a terminal: control
/// characters are shown escaped, so nobody can forge log lines or send escape sequences to an operator.
/// </summary>
internal static class TerminalText
{
    public static string Sanitize(string text)
    {
        var clean = true;
        foreach (var c in text)
        {
            if (char.IsControl(c))
            {
                clean = false;
                break;
            }
        }

        if (clean)
        {
            return text;
        }

        var builder = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            if (char.IsControl(c))
            {
                builder.Append("\\x").Append(((int)c).ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }
}
