namespace Tapster.Edge;

/// <summary>
/// The part of a response its client has not taken yet, held so that the worker that wrote it is free
/// for the next request, as nginx's proxy buffering frees Gunicorn's: in memory up to
/// <see cref="MemoryLimit"/>, then in an unlinked temporary file up to <see cref="FileLimit"/>, past
/// which the writer waits for the client after all. One writer (the exchange reading the worker's
/// frames), one reader (the task feeding the client); bytes come out in the order they went in.
/// </summary>
/// <param name="directory">Where the file goes: Tapster's private runtime directory.</param>
/// <param name="memoryLimit">Bytes held in memory before the file is used.</param>
/// <param name="fileLimit">Bytes the file may hold unread before the writer waits; 0 = no file.</param>
/// <param name="writerWaiting">Told true when the writer starts waiting for the reader, false when it stops
/// (the exchange pauses the request's clock meanwhile: that wait is the client's, not the app's).</param>
internal sealed class ResponseSpool(string directory, long memoryLimit = ResponseSpool.MemoryLimit, long fileLimit = ResponseSpool.FileLimit,
    Action<bool>? writerWaiting = null) : IDisposable
{
    /// <summary>Most pages fit here; a large download goes on to the file.</summary>
    public const int MemoryLimit = 256 * 1024;

    /// <summary>nginx's proxy_max_temp_file_size default.</summary>
    public const long FileLimit = 1L << 30;

    private const int FileReadSize = 64 * 1024;

    private readonly Lock _lock = new();
    private readonly Queue<byte[]> _memory = new();
    private long _memoryBytes;
    private FileStream? _file;
    private bool _fileBroken;
    private long _fileWritten;
    private long _fileRead;
    private bool _completed;
    private bool _abandoned;
    private TaskCompletionSource? _readerWaiting;
    private TaskCompletionSource? _writerWaiting;
    private byte[]? _readBuffer;

    /// <summary>Why the file could not be used (a full disk): the spool kept to memory and the worker waited.</summary>
    public string? FileFailure { get; private set; }

    /// <summary>Queues <paramref name="chunk"/> (copied); waits only when the spool is full or the file failed.</summary>
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> chunk)
    {
        while (true)
        {
            Task? room = null;
            lock (_lock)
            {
                if (_abandoned)
                {
                    return;
                }

                // Memory only while no byte waits in the file: the reader takes memory first.
                var fileUnread = _fileWritten > _fileRead;
                var usable = _file is null || _fileBroken;
                // Without a file (none allowed, or it failed), one chunk at a time may always wait in memory.
                var noFile = _fileBroken || fileLimit == 0;
                if (usable && !fileUnread && (_memoryBytes + chunk.Length <= memoryLimit || (noFile && _memoryBytes == 0)))
                {
                    _memory.Enqueue(chunk.ToArray());
                    _memoryBytes += chunk.Length;
                    WakeReaderLocked();
                    return;
                }

                if (noFile || _fileWritten - _fileRead + chunk.Length > fileLimit)
                {
                    _writerWaiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    room = _writerWaiting.Task;
                }
            }

            if (room is not null)
            {
                writerWaiting?.Invoke(true);
                try
                {
                    await room.ConfigureAwait(false);
                }
                finally
                {
                    writerWaiting?.Invoke(false);
                }

                continue;
            }

            if (await TryWriteFileAsync(chunk).ConfigureAwait(false))
            {
                return;
            }
        }
    }

    /// <summary>The writer is done: the reader gets the rest, then the end.</summary>
    public void Complete()
    {
        lock (_lock)
        {
            _completed = true;
            WakeReaderLocked();
        }
    }

    /// <summary>The reader is gone (the client left): what is held is dropped and the writer never waits again.</summary>
    public void Abandon()
    {
        lock (_lock)
        {
            _abandoned = true;
            _memory.Clear();
            _memoryBytes = 0;
            WakeWriterLocked();
        }
    }

    /// <summary>
    /// The next bytes in order, valid until the next call; empty once the writer completed and all was
    /// read, or the spool was abandoned.
    /// </summary>
    public async ValueTask<ReadOnlyMemory<byte>> ReadAsync()
    {
        while (true)
        {
            Task wait;
            long offset;
            int length;
            lock (_lock)
            {
                if (_abandoned)
                {
                    return ReadOnlyMemory<byte>.Empty;
                }

                if (_memory.TryDequeue(out var segment))
                {
                    _memoryBytes -= segment.Length;
                    WakeWriterLocked();
                    return segment;
                }

                if (_fileWritten > _fileRead)
                {
                    offset = _fileRead;
                    length = (int)Math.Min(FileReadSize, _fileWritten - _fileRead);
                    wait = Task.CompletedTask;
                }
                else if (_completed)
                {
                    return ReadOnlyMemory<byte>.Empty;
                }
                else
                {
                    _readerWaiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    wait = _readerWaiting.Task;
                    offset = length = 0;
                }
            }

            if (length == 0)
            {
                await wait.ConfigureAwait(false);
                continue;
            }

            _readBuffer ??= new byte[FileReadSize];
            var read = await RandomAccess.ReadAsync(_file!.SafeFileHandle, _readBuffer.AsMemory(0, length), offset).ConfigureAwait(false);
            lock (_lock)
            {
                _fileRead += read;
                WakeWriterLocked();
            }

            return _readBuffer.AsMemory(0, read);
        }
    }

    public void Dispose() => _file?.Dispose();

    /// <summary>Appends to the file (created on first use); false when it cannot be, and memory must do.</summary>
    private async ValueTask<bool> TryWriteFileAsync(ReadOnlyMemory<byte> chunk)
    {
        try
        {
            _file ??= CreateFile(directory);
            await RandomAccess.WriteAsync(_file.SafeFileHandle, chunk, _fileWritten).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            lock (_lock)
            {
                _fileBroken = true;
                FileFailure ??= e.Message;
            }

            return false;
        }

        lock (_lock)
        {
            _fileWritten += chunk.Length;
            WakeReaderLocked();
        }

        return true;
    }

    /// <summary>A private file, unlinked at once: it goes with its handle, whatever happens to Tapster.</summary>
    private static FileStream CreateFile(string directory)
    {
        var path = Path.Combine(directory, "response-" + Guid.NewGuid().ToString("N"));
        var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.ReadWrite,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            BufferSize = 0,
        });
        File.Delete(path);
        // Unbuffered: reads and writes go to its handle at explicit offsets.
        return stream;
    }

    private void WakeReaderLocked()
    {
        _readerWaiting?.TrySetResult();
        _readerWaiting = null;
    }

    private void WakeWriterLocked()
    {
        _writerWaiting?.TrySetResult();
        _writerWaiting = null;
    }
}
