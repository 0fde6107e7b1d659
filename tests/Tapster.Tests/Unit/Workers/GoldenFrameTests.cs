using System.Text;
using System.Text.Json;
using Tapster.Workers.Protocol;

namespace Tapster.Tests.Unit.Workers;

/// <summary>The C# codec against the golden frames in testdata/frames, which the Python tests read too.</summary>
public sealed class GoldenFrameTests
{
    public static TheoryData<string> ValidFrames() => Names(TestPaths.Of("testdata", "frames"));

    public static TheoryData<string> InvalidFrames() => Names(TestPaths.Of("testdata", "frames", "invalid"));

    [Theory]
    [MemberData(nameof(ValidFrames))]
    public void Decode_GoldenFrame_MatchesItsDescription(string name)
    {
        var (bin, json) = Load("", name);
        var header = Frame.ReadHeader(bin);
        var payload = bin.AsSpan(Frame.HeaderSize, header.PayloadLength);

        Assert.Equal(bin.Length, Frame.HeaderSize + header.PayloadLength);
        Assert.Equal(json.GetProperty("type").GetString()!.Replace("_", "", StringComparison.Ordinal), header.Type.ToString(), ignoreCase: true);
        Assert.Equal(json.GetProperty("flags").GetInt32(), header.Flags);
        switch (header.Type)
        {
            case FrameType.Hello:
                var hello = Hello.Parse(payload);
                Assert.Equal(
                    (json.GetProperty("role").GetInt32(), json.GetProperty("worker_id").GetUInt32(), json.GetProperty("pid").GetInt32(),
                        json.GetProperty("slot").GetInt32(), json.GetProperty("token_hex").GetString()),
                    ((int)hello.Role, hello.WorkerId, hello.Pid, (int)hello.SlotIndex, Convert.ToHexStringLower(hello.Token)));
                break;
            case FrameType.Start:
                var strings = Strings(payload);
                var expected = new List<string> { json.GetProperty("status").GetString()! };
                foreach (var pair in json.GetProperty("headers").EnumerateArray())
                {
                    expected.Add(pair[0].GetString()!);
                    expected.Add(pair[1].GetString()!);
                }

                Assert.Equal(expected, strings);
                break;
            case FrameType.Request:
                Assert.Equal(json.GetProperty("body_kind").GetInt32(), payload[0]);
                var environ = Strings(payload[4..]);
                var expectedEnviron = json.GetProperty("environ").EnumerateObject().SelectMany(p => new[] { p.Name, p.Value.GetString()! });
                Assert.Equal(expectedEnviron, environ);
                break;
            case FrameType.BootError:
                var error = Messages.ReadBootError(payload);
                Assert.Equal(
                    (json.GetProperty("kind").GetString(), json.GetProperty("python").GetString(), json.GetProperty("message").GetString(), json.GetProperty("traceback").GetString()),
                    (error.Kind, error.Python, error.Message, error.Traceback));
                break;
            case FrameType.File:
                Assert.Equal(new FileBody(json.GetProperty("fd").GetInt32(), json.GetProperty("offset").GetInt64(), json.GetProperty("count").GetInt64()), Messages.ReadFile(payload));
                break;
            case FrameType.End:
                Assert.Equal(json.GetProperty("outcome").GetInt32(), (int)Messages.ReadEnd(payload));
                break;
            case FrameType.Log:
                Assert.Equal((json.GetProperty("text").GetString(), json.GetProperty("flags").GetInt32() switch { 1 => "stderr", 2 => "stdout", _ => "wsgi.errors" }), Messages.ReadLog(header, payload));
                break;
            case FrameType.Forked:
                Assert.Equal((json.GetProperty("worker_id").GetUInt32(), json.GetProperty("pid").GetInt32()), Messages.ReadForked(payload));
                break;
            case FrameType.Exited:
                Assert.Equal((json.GetProperty("pid").GetInt32(), json.GetProperty("status").GetInt32()), Messages.ReadExited(payload));
                break;
        }
    }

    [Theory]
    [InlineData("welcome")]
    [InlineData("fork")]
    [InlineData("file_opened")]
    [InlineData("cancel")]
    [InlineData("hello")]
    [InlineData("hello_slot_responses")]
    [InlineData("hello_stderr")]
    public void Encode_FramesTapsterSends_AreByteForByteGolden(string name)
    {
        var (bin, json) = Load("", name);
        var buffer = new byte[bin.Length];
        var length = name switch
        {
            "welcome" => Messages.WriteWelcome(buffer),
            "fork" => Messages.WriteFork(buffer, json.GetProperty("worker_id").GetUInt32()),
            "file_opened" => Messages.WriteFileOpened(buffer, json.GetProperty("ok").GetInt32() != 0),
            "cancel" => Messages.WriteEmpty(buffer, FrameType.Cancel),
            _ => WriteHello(buffer, Hello.Parse(bin.AsSpan(Frame.HeaderSize))),
        };

        Assert.Equal(bin, buffer[..length]);
    }

    [Theory]
    [MemberData(nameof(InvalidFrames))]
    public void Decode_InvalidFrame_IsRejectedWithAProtocolError(string name)
    {
        var (bin, json) = Load("invalid", name);

        var error = Assert.Throws<ProtocolException>(() =>
        {
            var header = Frame.ReadHeader(bin);
            _ = new StringTableReader(bin.AsSpan(Frame.HeaderSize, header.PayloadLength), out _);
        });
        Assert.False(string.IsNullOrEmpty(error.Message), json.GetProperty("error").GetString());
    }

    [Fact]
    public void A_LOG_frame_with_flags_naming_no_stream_is_a_protocol_error()
    {
        var error = Assert.Throws<ProtocolException>(() => Messages.ReadLog(new FrameHeader(FrameType.Log, 3, 2), "hi"u8));

        Assert.Contains("unknown flags 3", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void StringTable_WriterAndReader_RoundTripWithUnusedSlotsCompacted()
    {
        var buffer = new byte[256];
        var writer = new StringTableWriter(buffer, maxCount: 6);
        writer.Write("KEY"u8);
        writer.Write("caf\u00e9"u8);
        writer.Write([]);
        var length = writer.Complete();

        var reader = new StringTableReader(buffer.AsSpan(0, length), out var consumed);
        var read = new List<string>();
        while (reader.TryRead(out var value))
        {
            read.Add(Encoding.UTF8.GetString(value));
        }

        Assert.Equal(length, consumed);
        Assert.Equal(["KEY", "caf\u00e9", ""], read);
    }

    private static int WriteHello(byte[] buffer, Hello hello)
    {
        Frame.WriteHeader(buffer, FrameType.Hello, Hello.Size);
        hello.WriteTo(buffer.AsSpan(Frame.HeaderSize));
        return Frame.HeaderSize + Hello.Size;
    }

    private static List<string> Strings(ReadOnlySpan<byte> payload)
    {
        var reader = new StringTableReader(payload, out _);
        var strings = new List<string>();
        while (reader.TryRead(out var value))
        {
            strings.Add(Encoding.Latin1.GetString(value));
        }

        return strings;
    }

    private static (byte[] Bin, JsonElement Json) Load(string folder, string name)
    {
        var dir = TestPaths.Of("testdata", "frames", folder);
        return (File.ReadAllBytes(Path.Combine(dir, name + ".bin")),
            JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, name + ".json"))).RootElement);
    }

    private static TheoryData<string> Names(string dir)
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(dir, "*.json").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileNameWithoutExtension(file));
        }

        return data;
    }
}
