namespace Tapster.Workers.Protocol;

/// <summary>Frame types of the worker protocol; see docs/protocol.md.</summary>
internal enum FrameType : byte
{
    Hello = 0x01,
    Welcome = 0x02,
    Ready = 0x03,
    BootError = 0x04,
    Request = 0x10,
    FileOpened = 0x11,
    Cancel = 0x12,
    Fork = 0x20,
    Forked = 0x21,
    Exited = 0x22,
    Start = 0x30,
    Body = 0x31,
    File = 0x32,
    End = 0x33,
    Log = 0x34,
}
