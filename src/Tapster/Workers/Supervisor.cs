using System.Diagnostics;
using System.Security.Cryptography;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Tapster.Configuration;
using Tapster.Telemetry;
using Tapster.Workers.Protocol;

namespace Tapster.Workers;

/// <summary>
/// Keeps the worker pool alive: starts the zygote (trying the next interpreter when a dependency is
/// missing), forks workers, admits their connections, replaces the ones that crash (with backoff) or
/// overstay (after dumping their stack), recycles them after max requests or past their memory limit,
/// and stops them gracefully.
/// All of its state is owned by one loop reading <see cref="SupervisorEvent"/>s; everyone else posts.
/// </summary>
internal sealed partial class Supervisor : IAsyncDisposable
{
    /// <summary>After SIGUSR1, how long a stuck worker gets to write its stack before SIGKILL.</summary>
    private static readonly TimeSpan StackDumpGrace = TimeSpan.FromMilliseconds(500);

    /// <summary>A worker that dies younger than this counts towards the crash backoff.</summary>
    private static readonly TimeSpan CrashWindow = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan WatchdogPeriod = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// How often each worker's private memory is read against workers.max_memory: often enough that a
    /// leak overshoots little, and reading smaps_rollup (a walk of the process's page tables, about
    /// 0.1 ms for a worker) stays far below a thousandth of a core even with many workers.
    /// </summary>
    private static readonly TimeSpan MemoryCheckPeriod = TimeSpan.FromSeconds(2);

    /// <summary>After the zygote's connection closes, how long its exit status is waited for, to report it.</summary>
    private static readonly TimeSpan ZygoteExitWait = TimeSpan.FromSeconds(1);

    private readonly ServeSettings _settings;
    private readonly AppSpec _app;
    private readonly IReadOnlyList<string> _pythons;
    private readonly Dispatcher _dispatcher;
    private readonly AppOutput _output;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Channel<SupervisorEvent> _events = Channel.CreateUnbounded<SupervisorEvent>(new() { SingleReader = true });
    private readonly byte[] _token = RandomNumberGenerator.GetBytes(Hello.TokenSize);
    private readonly Dictionary<uint, WorkerProcess> _workers = [];
    private readonly TaskCompletionSource<BootFailure?> _boot = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string _bridgeDirectory;
    private readonly string _appName;
    private WorkerListener? _listener;
    private ITimer? _watchdog;
    private Task? _loop;

    private Process? _zygote;

    /// <summary>The app's environment the next zygote gets: the configuration's, read again at each reload.</summary>
    private IReadOnlyDictionary<string, string> _appEnvironment;
    private int _zygoteGeneration;
    private int _zygotesStarted;

    /// <summary>Zygotes replaced by a reload whose workers still serve or drain; each goes once its last worker has.</summary>
    private readonly List<RetiringZygote> _retiring = [];

    /// <summary>During a preloaded reload, until the new zygote is ready: the one that serves on if it cannot load the app.</summary>
    private RetiringZygote? _fallback;
    private FrameConnection? _zygoteConnection;
    private bool _zygoteReady;
    private int _pythonIndex;
    private readonly List<string> _zygoteStderrTail = [];

    private uint _nextWorkerId = 1;
    private bool _everReady;
    private bool _stopping;
    private int _recentCrashes;
    private int _generation;
    private int _workerTarget;
    private long _runtimeTouchedAt;
    private long _memoryCheckedAt;
    private bool _memoryLimitBelowFreshWorker;
    private bool _reloading;
    private bool _runtimeMissingLogged;
    private long _spawnNotBefore;
    private bool _spawnScheduled;

    public Supervisor(ServeSettings settings, AppSpec app, IReadOnlyList<string> pythons, Dispatcher dispatcher,
        AppOutput output, ILogger<Supervisor> logger, TimeProvider time)
    {
        _settings = settings;
        _app = app;
        _pythons = pythons;
        _dispatcher = dispatcher;
        _output = output;
        _logger = logger;
        _time = time;
        _bridgeDirectory = Path.Combine(AppContext.BaseDirectory, "bridge");
        _appName = app.ToString();
        _workerTarget = settings.Workers;
        _appEnvironment = settings.AppEnvironment;
        RuntimeDirectory = Directory.CreateTempSubdirectory("tapster-").FullName;
        _dispatcher.WorkerDrained += worker => Post(new SupervisorEvent.Drained(worker));
    }

    /// <summary>
    /// A reload ended: every worker now runs the new code and environment (true), or the new code could
    /// not load and the previous workers serve on (false); with a line for <c>systemctl status</c>.
    /// Raised on the supervisor's loop.
    /// </summary>
    public event Action<bool, string>? ReloadSettled;

    /// <summary>A private directory (mode 0700) for the worker socket and spooled request bodies.</summary>
    public string RuntimeDirectory { get; }

    /// <summary>The interpreter the pool runs on (after any fallback).</summary>
    public string Python => _pythons[_pythonIndex];

    /// <summary>Starts the pool; completes once a worker is ready (null) or the app cannot boot.</summary>
    public Task<BootFailure?> StartAsync()
    {
        _listener = new WorkerListener(Path.Combine(RuntimeDirectory, "workers.sock"), _token, Admit, _logger);
        _loop = Task.Run(RunLoopAsync);
        _watchdog = _time.CreateTimer(_ => Watch(), null, WatchdogPeriod, WatchdogPeriod);
        Post(new SupervisorEvent.SpawnDue());
        return _boot.Task;
    }

    /// <summary>An exchange found its worker broken (end of stream, bad frame): replace it.</summary>
    public void ReportBroken(WorkerProcess worker, string reason) => Post(new SupervisorEvent.WorkerLost(worker, reason));

    /// <summary>
    /// Replaces every worker, Gunicorn's SIGHUP: a new generation is forked, and each old worker is
    /// drained as a new one becomes ready, so the pool never shrinks and no request fails. The new
    /// generation runs the app as it is on disk now: preloaded, a new zygote imports it first; with
    /// --no-preload each new worker does. New code that cannot load leaves the old workers serving.
    /// </summary>
    /// <param name="environment">The app's environment for the new workers (the configuration read again).</param>
    public void Reload(IReadOnlyDictionary<string, string> environment) => Post(new SupervisorEvent.Reload(environment));

    /// <summary>One worker more (<paramref name="delta"/> 1, Gunicorn's SIGTTIN) or fewer (-1, SIGTTOU; never below one).</summary>
    public void Resize(int delta) => Post(new SupervisorEvent.Resize(delta));

    /// <summary>Counts a served request and starts recycling the worker at its threshold.</summary>
    public void RequestFinished(WorkerProcess worker)
    {
        if (worker.CountRequest())
        {
            Post(new SupervisorEvent.Recycle(worker));
        }
    }

    /// <summary>Stops every Python process: idle workers exit, the zygote last.</summary>
    public async Task StopAsync()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(new SupervisorEvent.Stop(done));
        await done.Task.ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_loop is not null && !_stopping)
        {
            await StopAsync().ConfigureAwait(false);
        }

        if (_watchdog is not null)
        {
            await _watchdog.DisposeAsync().ConfigureAwait(false);
        }

        _listener?.Dispose();
        try
        {
            Directory.Delete(RuntimeDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A spool file still open elsewhere: the OS cleans the temp dir eventually.
        }
    }

    private void Post(SupervisorEvent message) => _events.Writer.TryWrite(message);

    private async Task RunLoopAsync()
    {
        await foreach (var message in _events.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                if (Handle(message))
                {
                    return;
                }

                if (_reloading)
                {
                    CheckReloadDone();
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // The loop root: one bad event must not leave the pool without an owner.
                LogSupervisorError(_logger, message.GetType().Name, e);
            }
        }
    }

    /// <summary>Handles one event; true when the loop is done.</summary>
    private bool Handle(SupervisorEvent message)
    {
        switch (message)
        {
            case SupervisorEvent.SpawnDue:
                _spawnScheduled = false;
                EnsureZygote();
                SpawnWorkers();
                break;
            case SupervisorEvent.ZygoteConnected connected:
                OnZygoteConnected(connected);
                break;
            case SupervisorEvent.ZygoteReady ready when ready.Generation == _zygoteGeneration:
                _zygoteReady = true;
                _fallback = null;
                LogZygoteReady(_logger, Python, _appName, _settings.Preload);
                SpawnWorkers();
                CloseIdleRetiringZygotes();
                break;
            case SupervisorEvent.ZygoteFailed failed when failed.Generation == _zygoteGeneration:
                OnBootError(failed.Error);
                break;
            // Once connected, the zygote's end of stream is the word that counts: it comes after any
            // BOOT_ERROR it sent, whereas the exit notice may overtake that frame.
            case SupervisorEvent.ZygoteGone gone when gone.Generation == _zygoteGeneration
                && !(gone.FromProcessExit && _zygoteConnection is not null):
                OnZygoteGone(gone.Detail);
                break;
            case SupervisorEvent.ZygoteGone gone when _retiring.Find(r => r.Generation == gone.Generation) is { } retired:
                // Its workers serve on (they outlive their parent); without it no exit notice will come for them.
                _retiring.Remove(retired);
                if (_fallback == retired)
                {
                    _fallback = null;
                }

                break;
            case SupervisorEvent.Forked forked:
                if (_workers.TryGetValue(forked.WorkerId, out var forkedWorker))
                {
                    OnForked(forkedWorker, forked.Pid);
                }

                break;
            case SupervisorEvent.Exited exited:
                OnExited(exited.ZygoteGeneration, exited.Pid, exited.Status);
                break;
            case SupervisorEvent.WorkerConnected connected:
                OnWorkerConnected(connected.Hello, connected.Connection);
                break;
            case SupervisorEvent.WorkerFailedToBoot failedWorker:
                if (_workers.TryGetValue(failedWorker.WorkerId, out var bootWorker))
                {
                    Bury(bootWorker);
                }

                OnBootError(failedWorker.Error);
                break;
            case SupervisorEvent.WorkerLost lost:
                OnWorkerLost(lost.Worker, lost.Reason);
                break;
            case SupervisorEvent.TimedOut timedOut:
                OnTimedOut(timedOut.Slot, timedOut.After);
                break;
            case SupervisorEvent.KillNow kill:
                Kill(kill.Worker);
                break;
            case SupervisorEvent.Recycle recycle when recycle.Worker.State == WorkerState.Ready:
                // It serves on until its replacement is ready, as in a reload: a replacement that cannot
                // load the app (a broken deploy, without preload) must not leave the pool empty.
                LogRecycling(_logger, recycle.Worker.Id, recycle.Worker.Pid, recycle.Worker.RequestsServed);
                recycle.Worker.RecycleDue = true;
                SpawnWorkers();
                break;
            case SupervisorEvent.MemoryCheckDue when _everReady && !_stopping && !_memoryLimitBelowFreshWorker:
                RecycleOverMemoryLimit();
                break;
            case SupervisorEvent.Resize resize when _everReady && !_stopping:
                OnResize(resize.Delta);
                break;
            case SupervisorEvent.Reload reload when _everReady && !_stopping:
                // A reload is the operator saying the code changed: the old code's crash backoff (a
                // deploy that failed to import, then fixed) must not hold the new workers back.
                _recentCrashes = 0;
                _spawnNotBefore = 0;
                _memoryLimitBelowFreshWorker = false; // the new code's workers are judged afresh
                _reloading = true;
                var serving = _workers.Values.Count(w => w.State == WorkerState.Ready);
                LogReloading(_logger, serving, _settings.Preload);
                _generation++;
                StartReplacementZygote(reload.Environment, servingGeneration: _generation - 1);
                SpawnWorkers();
                break;
            case SupervisorEvent.Drained drained:
                // Closing the control connection asks the worker to exit once idle, which it now is.
                drained.Worker.Control?.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);
                break;
            case SupervisorEvent.ZygoteLoadOverdue overdue when overdue.Generation == _zygoteGeneration && _zygote is not null && !_zygoteReady:
                OnZygoteLoadOverdue(_zygote.Id, overdue);
                break;
            case SupervisorEvent.WorkerBootOverdue overdue when _workers.TryGetValue(overdue.WorkerId, out var booting) && booting.State == WorkerState.Starting:
                OnWorkerBootOverdue(booting, overdue);
                break;
            case SupervisorEvent.Stop stop:
                StopEverything();
                stop.Done.TrySetResult();
                return true;
        }

        return false;
    }

    private bool Admit(Hello hello, FrameConnection connection)
    {
        switch (hello.Role)
        {
            case PeerRole.Zygote:
                Post(new SupervisorEvent.ZygoteConnected(connection, hello.Pid));
                break;
            case PeerRole.WorkerStdout or PeerRole.WorkerStderr when connection.HasUnreadBytes:
                // Raw output follows WELCOME; a byte before it is not output, it is a broken peer.
                throw new ProtocolException("an output connection sent bytes before WELCOME");
            default:
                Post(new SupervisorEvent.WorkerConnected(hello, connection));
                break;
        }

        Span<byte> welcome = stackalloc byte[Frame.HeaderSize + Messages.WelcomeSize];
        Messages.WriteWelcome(welcome);
        connection.Socket.Send(welcome);
        return true;
    }

    private void EnsureZygote()
    {
        if (_zygote is null && !_stopping)
        {
            StartZygote();
        }
    }

    private void StartZygote()
    {
        _zygoteGeneration = ++_zygotesStarted;
        _zygoteReady = false;
        lock (_zygoteStderrTail)
        {
            _zygoteStderrTail.Clear(); // a retiring zygote's capture thread may be adding to it
        }

        var generation = _zygoteGeneration;
        var start = new ProcessStartInfo(Python)
        {
            WorkingDirectory = _app.Directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("import sys,os;sys.path.append(os.environ.pop('TAPSTER_BRIDGE'));from tapster_bridge.zygote import main;main()");
        // The app's environment as configured ([env], env_files, NAME_FILE); Tapster's own variables follow.
        start.Environment.Clear();
        foreach (var (name, value) in _appEnvironment)
        {
            if (!SystemdNotify.Variables.Contains(name, StringComparer.Ordinal))
            {
                start.Environment[name] = value;
            }
        }

        start.Environment["TAPSTER_BRIDGE"] = _bridgeDirectory;
        start.Environment["TAPSTER_SOCKET"] = _listener!.Path;
        start.Environment["TAPSTER_TOKEN"] = Convert.ToHexStringLower(_token);
        start.Environment["TAPSTER_APP_DIR"] = _app.Directory;
        start.Environment["TAPSTER_APP_MODULE"] = _app.Module;
        start.Environment["TAPSTER_APP_CALLABLE"] = _app.Callable;
        start.Environment["TAPSTER_PRELOAD"] = _settings.Preload ? "1" : "0";
        start.Environment["TAPSTER_THREADS"] = _settings.Threads.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["PYTHONUNBUFFERED"] = "1";

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.Exited += (_, _) => Post(new SupervisorEvent.ZygoteGone(generation, ExitDescription(process), FromProcessExit: true));
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            var reason = $"cannot start Python '{Python}': {e.Message}";
            if (!_everReady)
            {
                _boot.TrySetResult(new BootFailure(reason, null, BootFailure.SpecExitCode));
            }
            else if (_fallback is not null)
            {
                // A reload after a deploy that removed the interpreter (an old release's venv): the old zygote serves on.
                LogReloadFailed(_logger, reason, "");
                RestoreFallback();
            }
            else
            {
                LogZygoteLost(_logger, reason);
                ScheduleAfterCrash();
            }

            return;
        }

        process.StandardInput.Close();
        _zygote = process;
        var pid = process.Id;
        After(_settings.BootTimeout, new SupervisorEvent.ZygoteLoadOverdue(generation, StackDumped: false));
        _output.Capture(process.StandardOutput.BaseStream, "zygote", 0, pid, "stdout");
        _output.Capture(process.StandardError.BaseStream, "zygote", 0, pid, "stderr", line =>
        {
            lock (_zygoteStderrTail)
            {
                _zygoteStderrTail.Add(line);
                if (_zygoteStderrTail.Count > 20)
                {
                    _zygoteStderrTail.RemoveAt(0);
                }
            }
        });
        LogZygoteStarting(_logger, Python, pid);
    }

    private static string ExitDescription(Process process)
    {
        try
        {
            return $"exit code {process.ExitCode}";
        }
        catch (InvalidOperationException)
        {
            return "exited";
        }
    }

    private void OnZygoteConnected(SupervisorEvent.ZygoteConnected connected)
    {
        if (_zygote is null || connected.Pid != _zygote.Id)
        {
            connected.Connection.Dispose();
            return;
        }

        _zygoteConnection = connected.Connection;
        var generation = _zygoteGeneration;
        _ = ReadZygoteAsync(connected.Connection, _zygote, generation);
    }

    private async Task ReadZygoteAsync(FrameConnection connection, Process zygote, int generation)
    {
        try
        {
            while (await connection.ReadAsync().ConfigureAwait(false))
            {
                var payload = connection.CurrentPayload.Span;
                switch (connection.Current.Type)
                {
                    case FrameType.Ready:
                        Post(new SupervisorEvent.ZygoteReady(generation));
                        break;
                    case FrameType.BootError:
                        Post(new SupervisorEvent.ZygoteFailed(generation, Messages.ReadBootError(payload)));
                        break;
                    case FrameType.Forked:
                        var (workerId, pid) = Messages.ReadForked(payload);
                        Post(new SupervisorEvent.Forked(workerId, pid));
                        break;
                    case FrameType.Exited:
                        var (exitedPid, status) = Messages.ReadExited(payload);
                        Post(new SupervisorEvent.Exited(generation, exitedPid, status));
                        break;
                    default:
                        throw new ProtocolException($"unexpected {connection.Current.Type} from the zygote");
                }
            }
        }
        catch (ProtocolException e)
        {
            LogProtocolViolation(_logger, "zygote", e.Message);
        }

        // A zygote that closed its connection is exiting: say how (an exit code, a signal) when it
        // does so at once, which is what makes "stopped while loading the app" useful.
        var detail = "its connection closed";
        using (var wait = new CancellationTokenSource(ZygoteExitWait))
        {
            try
            {
                await zygote.WaitForExitAsync(wait.Token).ConfigureAwait(false);
                detail = $"{detail}, {ExitDescription(zygote)}";
            }
            catch (OperationCanceledException)
            {
                // Still running: the notice goes without it.
            }
        }

        Post(new SupervisorEvent.ZygoteGone(generation, detail, FromProcessExit: false));
    }

    private void OnBootError(BootError error)
    {
        if (_fallback is not null)
        {
            // The zygote of a reload could not import the new code: it exits on its own after saying so.
            LogReloadFailed(_logger, _output.Redact(error.Message), _output.Redact(error.Traceback));
            RestoreFallback();
            return;
        }

        if (_everReady)
        {
            // The app loaded before; a worker that cannot import it now (no-preload after a deploy) is a crash.
            LogWorkerBootError(_logger, _output.Redact(error.Message), _output.Redact(error.Traceback));
            if (_reloading)
            {
                SettleReload(false, "Reload failed: a new worker could not load the app; the previous workers serve on");
            }

            ScheduleAfterCrash();
            return;
        }

        KillZygote();
        if (error.MayBeWrongInterpreter && _pythonIndex + 1 < _pythons.Count)
        {
            var failed = Python;
            _pythonIndex++;
            LogTryingNextPython(_logger, failed, error.Message, Python);
            StartZygote();
            return;
        }

        // The bridge names the interpreter in messages about missing modules; say it once.
        var python = error.Message.Contains(Python, StringComparison.Ordinal) ? "" : $" (python: {Python})";
        var tried = _pythonIndex == 0 ? "" : $"; also tried {string.Join(", ", _pythons.Take(_pythonIndex))}";
        var exitCode = error.Kind == "spec" ? BootFailure.SpecExitCode : BootFailure.ImportExitCode;
        _boot.TrySetResult(new BootFailure($"cannot load app '{_app}': {error.Message}{python}{tried}", error.Traceback, exitCode));
    }

    private void OnZygoteGone(string detail)
    {
        if (_zygote is null)
        {
            return; // its other notice (end of stream, or exit) was handled already
        }

        // Connected means the interpreter ran our bridge: what stopped it came with the app.
        var connected = _zygoteConnection is not null;
        _zygoteConnection?.Dispose();
        _zygoteConnection = null;
        _zygote = null;
        if (_stopping)
        {
            return;
        }

        if (_fallback is not null)
        {
            LogReloadFailed(_logger, $"its zygote stopped while loading the app ({detail})", "");
            RestoreFallback();
            return;
        }

        if (!_everReady)
        {
            if (connected)
            {
                FailBoot($"Python '{Python}' stopped while loading the app ({detail})");
            }
            else
            {
                FailBoot($"'{Python}' is not a working Python: it stopped before starting Tapster's bridge ({detail})", BootFailure.SpecExitCode);
            }

            return;
        }

        // Running workers are not the zygote's to lose: they stay connected and keep serving.
        LogZygoteLost(_logger, detail);
        ScheduleAfterCrash();
    }

    /// <summary>
    /// Workers inherit their zygote's environment and, preloaded, the code it imported, so a reload
    /// starts a new zygote with the app's environment as read again, which (preloaded) imports the app
    /// as it is on disk now. The old one stays, reaping its workers as they drain, and takes over again
    /// if the new one cannot load the app (a broken deploy). A reload while the previous one is still
    /// loading starts over: that import may have read files the deploy was still writing.
    /// </summary>
    /// <param name="servingGeneration">The generation of the workers that serve now, restored if the reload fails.</param>
    private void StartReplacementZygote(IReadOnlyDictionary<string, string> environment, int servingGeneration)
    {
        if (_zygote is { } current && _zygoteConnection is { } connection && _zygoteReady)
        {
            _fallback = new RetiringZygote(current, connection, _zygoteGeneration, _appEnvironment, servingGeneration);
            _retiring.Add(_fallback);
        }
        else if (_zygote is { } loading)
        {
            _zygoteConnection?.Dispose(); // it has forked no worker: nothing of it serves
            KillWithChildren(loading);
        }

        _zygote = null;
        _zygoteConnection = null;
        _appEnvironment = environment;
        StartZygote();
    }

    /// <summary>The zygote of a reload failed before it was ready: the previous one and its workers are current again.</summary>
    private void RestoreFallback()
    {
        var fallback = _fallback!;
        _fallback = null;
        _retiring.Remove(fallback);
        if (_zygote is { } failed)
        {
            KillWithChildren(failed);
        }

        _zygoteConnection?.Dispose();
        _zygote = fallback.Process;
        _zygoteConnection = fallback.Connection;
        _zygoteGeneration = fallback.Generation;
        _appEnvironment = fallback.Environment;
        _zygoteReady = true;
        // No worker of a newer generation was forked (no zygote of this reload became ready, however
        // many SIGHUPs it took), so the serving workers are the current generation again and nothing is replaced.
        _generation = fallback.WorkerGeneration;
        SpawnWorkers();
        SettleReload(false, "Reload failed: the new code did not load; the previous workers serve on");
    }

    /// <summary>The reload is done once no worker of an older generation is left and one of the new serves.</summary>
    private void CheckReloadDone()
    {
        if (_stopping || _fallback is not null || !_zygoteReady
            || _workers.Values.Any(w => w.Generation < _generation && w.State != WorkerState.Dead)
            || !_workers.Values.Any(w => w.Generation == _generation && w.State == WorkerState.Ready))
        {
            return;
        }

        var serving = _workers.Values.Count(w => w.State == WorkerState.Ready);
        LogReloaded(_logger, serving);
        SettleReload(true, $"Reloaded: {serving} workers serve the new code and environment");
    }

    private void SettleReload(bool done, string status)
    {
        _reloading = false;
        ReloadSettled?.Invoke(done, status);
    }

    /// <summary>Lets every retiring zygote whose workers are all gone exit (end of its connection).</summary>
    private void CloseIdleRetiringZygotes()
    {
        foreach (var retiring in _retiring.ToList())
        {
            if (retiring != _fallback && !_workers.Values.Any(w => w.ZygoteGeneration == retiring.Generation))
            {
                _retiring.Remove(retiring);
                retiring.Connection.Dispose();
            }
        }
    }

    /// <summary>A zygote with every process under it: its workers, and anything its import started (a process the app spawned).</summary>
    private static void KillWithChildren(Process zygote)
    {
        try
        {
            zygote.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    private void KillZygote()
    {
        _zygoteConnection?.Dispose();
        _zygoteConnection = null;
        if (_zygote is { } zygote)
        {
            _zygote = null;
            KillWithChildren(zygote);
        }

        foreach (var worker in _workers.Values.ToList())
        {
            Bury(worker);
        }
    }

    private void SpawnWorkers()
    {
        if (_stopping || !_zygoteReady || _zygoteConnection is null)
        {
            return;
        }

        var now = _time.GetTimestamp();
        if (now < _spawnNotBefore)
        {
            ScheduleSpawn(_time.GetElapsedTime(now, _spawnNotBefore));
            return;
        }

        // Only the current generation counts, and not a worker due for recycling: during a reload, and
        // until its replacement is ready, the leaving worker serves on.
        var live = _workers.Values.Count(w => w.Generation == _generation
            && (w.State == WorkerState.Starting || (w.State == WorkerState.Ready && !w.RecycleDue)));
        // No-preload boots one worker first, so an app that cannot import fails once, not N times.
        var target = !_everReady && !_settings.Preload ? 1 : _workerTarget;
        Span<byte> fork = stackalloc byte[Frame.HeaderSize + 4];
        for (; live < target; live++)
        {
            var id = _nextWorkerId++;
            var jitter = _settings.MaxRequestsJitter > 0 ? Random.Shared.Next(_settings.MaxRequestsJitter + 1) : 0;
            var worker = new WorkerProcess(id, _settings.Threads, now)
            {
                Generation = _generation,
                ZygoteGeneration = _zygoteGeneration,
                RecycleAfter = _settings.MaxRequests > 0 ? _settings.MaxRequests + jitter : long.MaxValue,
            };
            _workers[id] = worker;
            Messages.WriteFork(fork, id);
            try
            {
                _zygoteConnection.Socket.Send(fork);
            }
            catch (System.Net.Sockets.SocketException)
            {
                // The zygote is dying; its ZygoteGone event brings a new one.
                _workers.Remove(id);
                return;
            }

            After(_settings.BootTimeout, new SupervisorEvent.WorkerBootOverdue(id, StackDumped: false));
        }
    }

    /// <summary>
    /// The app has not loaded in the boot timeout: first its Python stack is logged (the zygote registers
    /// faulthandler on SIGUSR1 before it imports), then, at the second notice, the zygote is killed.
    /// Before the first boot that ends Tapster (exit 3); later the zygote's exit brings a new one, after
    /// the crash backoff, and the running workers serve on.
    /// </summary>
    private void OnZygoteLoadOverdue(int pid, SupervisorEvent.ZygoteLoadOverdue overdue)
    {
        if (!overdue.StackDumped)
        {
            LogLoadOverdue(_logger, _appName, _settings.BootTimeout.TotalSeconds, pid);
            DumpStackThen(signal => Signals.Send(pid, signal), overdue with { StackDumped = true });
            return;
        }

        if (_everReady)
        {
            Signals.Send(pid, Signals.SigKill); // it has forked nothing yet: it never became ready
            return;
        }

        KillZygote();
        FailBoot($"the app '{_app}' did not finish loading within {BootTimeoutText}; {StackAbove}");
    }

    /// <summary>A worker that has not connected in the boot timeout (it hangs importing the app with --no-preload): as for the zygote.</summary>
    private void OnWorkerBootOverdue(WorkerProcess worker, SupervisorEvent.WorkerBootOverdue overdue)
    {
        if (!overdue.StackDumped)
        {
            LogWorkerBootOverdue(_logger, worker.Id, worker.Pid, _settings.BootTimeout.TotalSeconds);
            DumpStackThen(worker.Signal, overdue with { StackDumped = true }); // no pid yet: nothing to dump
            return;
        }

        if (!_everReady)
        {
            KillZygote();
            FailBoot($"worker {worker.Id} did not finish loading the app '{_app}' within {BootTimeoutText}; {StackAbove}");
            return;
        }

        OnWorkerLost(worker, $"it did not load the app within {BootTimeoutText}");
    }

    private string BootTimeoutText => $"{_settings.BootTimeout.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)}s (workers.boot_timeout)";

    private const string StackAbove = "the Python stack above shows where it hung";

    /// <summary>Ends the first boot with exit 3, showing the zygote's last stderr lines (a traceback, a stack dump).</summary>
    private void FailBoot(string summary, int exitCode = BootFailure.ImportExitCode)
    {
        string tail;
        lock (_zygoteStderrTail)
        {
            tail = _output.Redact(string.Join('\n', _zygoteStderrTail));
        }

        _boot.TrySetResult(new BootFailure(summary, tail.Length > 0 ? tail : null, exitCode));
    }

    /// <summary>
    /// SIGUSR1 makes faulthandler in the bridge write every thread's stack to stderr, which is logged;
    /// <paramref name="next"/> (the kill) comes once it has had <see cref="StackDumpGrace"/> to do so.
    /// </summary>
    private void DumpStackThen(Func<int, bool> signal, SupervisorEvent next)
    {
        signal(Signals.SigUsr1);
        After(StackDumpGrace, next);
    }

    /// <summary>Posts <paramref name="message"/> to the loop after <paramref name="delay"/>.</summary>
    private void After(TimeSpan delay, SupervisorEvent message)
    {
        // The callback holds its own timer: a timer nobody references may be collected before it fires.
        ITimer? timer = null;
        timer = _time.CreateTimer(_ =>
        {
            Post(message);
            timer?.Dispose();
        }, null, delay, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Learns the worker's pid from the zygote, and judges the connections that named it first.</summary>
    private void OnForked(WorkerProcess worker, int pid)
    {
        worker.Attach(pid);
        var early = worker.EarlyArrivals.ToArray();
        worker.EarlyArrivals.Clear();
        foreach (var (hello, connection) in early)
        {
            OnWorkerConnected(hello, connection);
        }
    }

    /// <summary>
    /// A control, slot or output connection: admitted only for a worker that is starting, and only from
    /// its own process. A second control connection, or one for a worker not starting, comes from a
    /// process the pool has no place for: it is killed.
    /// </summary>
    private void OnWorkerConnected(Hello hello, FrameConnection connection)
    {
        var isControl = hello.Role == PeerRole.WorkerControl;
        if (!_workers.TryGetValue(hello.WorkerId, out var worker) || worker.State != WorkerState.Starting || (isControl && worker.Control is not null))
        {
            if (isControl)
            {
                Signals.Send(hello.Pid, Signals.SigKill);
            }

            connection.Dispose();
            return;
        }

        if (!FromItsProcess(worker, hello, connection))
        {
            return;
        }

        switch (hello.Role)
        {
            case PeerRole.WorkerControl:
                worker.Control = connection;
                _ = ReadControlAsync(worker, connection);
                break;
            case PeerRole.WorkerStdout or PeerRole.WorkerStderr:
                // What it writes to fd 1 and 2 is logged line by line, tagged with it.
                _ = _output.CaptureAsync(connection.Socket, "worker", hello.WorkerId, hello.Pid, hello.Role == PeerRole.WorkerStdout ? "stdout" : "stderr");
                break;
            default:
                OnSlotConnected(worker, hello, connection);
                break;
        }
    }

    /// <summary>
    /// Whether a connection naming <paramref name="worker"/> comes from the process the zygote forked
    /// for it. Every Python process of the app holds the token, so a worker (or a child it forked) could
    /// otherwise claim a sibling that is still starting and take its place. A connection that arrives
    /// before the zygote's FORKED waits for it.
    /// </summary>
    private bool FromItsProcess(WorkerProcess worker, Hello hello, FrameConnection connection)
    {
        if (worker.Pid == 0)
        {
            worker.EarlyArrivals.Add((hello, connection));
            return false;
        }

        if (worker.Pid == hello.Pid)
        {
            return true;
        }

        LogImpostor(_logger, hello.Role, worker.Id, hello.Pid, worker.Pid);
        connection.Dispose();
        return false;
    }

    private async Task ReadControlAsync(WorkerProcess worker, FrameConnection connection)
    {
        var reason = "its control connection closed";
        try
        {
            while (await connection.ReadAsync().ConfigureAwait(false))
            {
                if (connection.Current.Type != FrameType.BootError)
                {
                    throw new ProtocolException($"unexpected {connection.Current.Type} on a control connection");
                }

                Post(new SupervisorEvent.WorkerFailedToBoot(worker.Id, Messages.ReadBootError(connection.CurrentPayload.Span)));
                return;
            }
        }
        catch (ProtocolException e)
        {
            reason = e.Message;
        }
        catch (ObjectDisposedException)
        {
        }

        Post(new SupervisorEvent.WorkerLost(worker, reason));
    }

    private void OnSlotConnected(WorkerProcess worker, Hello hello, FrameConnection connection)
    {
        if (hello.SlotIndex >= worker.Threads || worker.Slots.Exists(s => s.Index == hello.SlotIndex))
        {
            connection.Dispose();
            return;
        }

        // A slot is two one-way connections, its request connection first (docs/protocol.md).
        if (hello.Role == PeerRole.WorkerSlot)
        {
            if (!worker.UnpairedSlots.TryAdd(hello.SlotIndex, connection))
            {
                connection.Dispose();
            }

            return;
        }

        if (!worker.UnpairedSlots.Remove(hello.SlotIndex, out var requests))
        {
            connection.Dispose();
            return;
        }

        if (FrameConnection.TryPair(requests, connection) is not { } channel)
        {
            requests.Dispose();
            connection.Dispose();
            OnWorkerLost(worker, "it sent a frame before its slot was ready");
            return;
        }

        worker.Slots.Add(new WorkerSlot(worker, hello.SlotIndex, channel));
        if (worker.Slots.Count < worker.Threads)
        {
            return;
        }

        CheckFreshWorkerMemory(worker); // before the dispatcher may hand it a request
        worker.State = WorkerState.Ready;
        _dispatcher.Add(worker);
        LogWorkerReady(_logger, worker.Id, worker.Pid, worker.Threads);
        ReplaceOlderGeneration(worker);
        if (!_everReady)
        {
            _everReady = true;
            _boot.TrySetResult(null);
            SpawnWorkers();
        }
    }

    /// <summary>
    /// A worker that holds more than workers.max_memory before it served a request would be recycled
    /// again and again to no avail (a big app without preload, a limit written in bytes): the limit is
    /// then said to be too low, once, and no worker is recycled for memory until a reload or a restart.
    /// </summary>
    private void CheckFreshWorkerMemory(WorkerProcess worker)
    {
        if (_settings.MaxMemory == 0 || _memoryLimitBelowFreshWorker || PrivateMemory.Of(worker.Pid) is not { } held || held <= _settings.MaxMemory)
        {
            return;
        }

        _memoryLimitBelowFreshWorker = true;
        LogMemoryLimitBelowFreshWorker(_logger, worker.Id, worker.Pid, Mebibytes(held), Mebibytes(_settings.MaxMemory));
    }

    /// <summary>Every serving worker past workers.max_memory serves on until its replacement is ready, then drains.</summary>
    private void RecycleOverMemoryLimit()
    {
        var due = false;
        foreach (var worker in _workers.Values)
        {
            if (worker.State != WorkerState.Ready || worker.RecycleDue || PrivateMemory.Of(worker.Pid) is not { } held || held <= _settings.MaxMemory)
            {
                continue;
            }

            LogMemoryRecycling(_logger, worker.Id, worker.Pid, Mebibytes(held), Mebibytes(_settings.MaxMemory), worker.RequestsServed);
            worker.RecycleDue = true;
            due = true;
        }

        if (due)
        {
            SpawnWorkers();
        }
    }

    private static long Mebibytes(long bytes) => bytes / (1024 * 1024);

    private void OnExited(int zygoteGeneration, int pid, int status)
    {
        // By its zygote too: with two zygotes during a reload, a pid one reaps may be reused by the other's fork.
        var worker = _workers.Values.FirstOrDefault(w => w.Pid == pid && w.ZygoteGeneration == zygoteGeneration);
        var described = status < 0 ? $"signal {-status}{SignalName(-status)}" : $"exit code {status}";
        if (status != 0 && worker is not null && !(status == -Signals.SigKill && worker.Killed) && !_stopping)
        {
            // The cause of a crash (a segfault in an extension, os._exit(1)): the request's own event,
            // which usually comes first, only knows that the worker went away. (Tapster also SIGKILLs
            // a worker it buries, which may have died of something else first: only its SIGKILL is ours.)
            LogWorkerExitStatus(_logger, worker.Id, pid, described);
        }
        else
        {
            LogWorkerExited(_logger, worker?.Id ?? 0, pid, described);
        }

        if (worker is not null)
        {
            // Reaped by the zygote already: its number may be someone else's now.
            worker.Forget();
            OnWorkerLost(worker, status < 0 ? $"killed by signal {-status}" : $"exited with code {status}");
            _workers.Remove(worker.Id);
            CloseIdleRetiringZygotes();
        }
    }

    private void OnWorkerLost(WorkerProcess worker, string reason)
    {
        if (worker.State == WorkerState.Dead)
        {
            return;
        }

        var expected = worker.State == WorkerState.Draining || _stopping;
        Bury(worker);
        if (worker.ZygoteGeneration != _zygoteGeneration && !_retiring.Exists(r => r.Generation == worker.ZygoteGeneration))
        {
            // Its zygote is gone, so no exit notice will come to remove it: the entry goes now.
            worker.Forget();
            _workers.Remove(worker.Id);
        }

        if (expected)
        {
            LogWorkerRetired(_logger, worker.Id, worker.Pid, worker.RequestsServed);
            SpawnWorkers();
            return;
        }

        LogWorkerCrashed(_logger, worker.Id, worker.Pid, reason);
        if (_time.GetElapsedTime(worker.StartedAt) < CrashWindow)
        {
            ScheduleAfterCrash();
        }
        else
        {
            _recentCrashes = 0;
            SpawnWorkers();
        }
    }

    private void OnTimedOut(WorkerSlot slot, TimeSpan after)
    {
        var worker = slot.Worker;
        if (worker.State == WorkerState.Dead)
        {
            return;
        }

        LogRequestTimedOut(_logger, worker.Id, worker.Pid, after.TotalSeconds);
        // The stack dump starts before any of its connections is touched, and the others stay open until
        // the kill: closing them wakes its other threads, and a thread that exits while faulthandler
        // walks the threads can cut the dump short (seen once in CI).
        DumpStackThen(worker.Signal, new SupervisorEvent.KillNow(worker));
        Retire(worker);
        slot.Connection.Dispose(); // the stuck request is answered 504 now
        SpawnWorkers();
    }

    /// <summary>Takes a worker out of service for good: no new requests, its process killed.</summary>
    private void Bury(WorkerProcess worker)
    {
        if (worker.State == WorkerState.Dead)
        {
            return;
        }

        Retire(worker);
        Kill(worker);
    }

    private void OnResize(int delta)
    {
        var target = Math.Max(1, _workerTarget + delta);
        if (target == _workerTarget)
        {
            LogResizeRefused(_logger);
            return;
        }

        _workerTarget = target;
        LogResized(_logger, target);
        if (delta > 0)
        {
            SpawnWorkers();
            return;
        }

        // The oldest serving worker goes, as in Gunicorn.
        // During a reload the old generation goes first: one of it left over would never be replaced.
        var oldest = OldestServing(w => w.Generation < _generation) ?? OldestServing(w => w.Generation == _generation);
        if (oldest is not null)
        {
            Drain(oldest);
        }
    }

    /// <summary>
    /// A worker came up: one worker of an older generation leaves (one of them, if it is older itself),
    /// else one due for recycling.
    /// </summary>
    private void ReplaceOlderGeneration(WorkerProcess ready)
    {
        var older = ready.Generation < _generation
            ? ready
            : OldestServing(w => w.Generation < _generation) ?? OldestServing(w => w.RecycleDue);
        if (older is not null)
        {
            LogReplaced(_logger, older.Id, older.Pid);
            Drain(older);
        }
    }

    private WorkerProcess? OldestServing(Func<WorkerProcess, bool> among) =>
        _workers.Values.Where(w => w.State == WorkerState.Ready && among(w)).MinBy(w => w.Id);

    /// <summary>The worker gets no new requests and exits once its last one is done (<see cref="SupervisorEvent.Drained"/>).</summary>
    private void Drain(WorkerProcess worker)
    {
        worker.State = WorkerState.Draining;
        _dispatcher.Remove(worker);
    }

    /// <summary>No new requests for <paramref name="worker"/>, and it no longer counts as one of the pool.</summary>
    private void Retire(WorkerProcess worker)
    {
        worker.State = WorkerState.Dead;
        _dispatcher.Remove(worker);
    }

    private static string SignalName(int signal) => signal switch
    {
        6 => " (SIGABRT)",
        7 => " (SIGBUS)",
        Signals.SigKill => " (SIGKILL: Tapster, the OOM killer or an operator)",
        11 => " (SIGSEGV)",
        Signals.SigTerm => " (SIGTERM)",
        _ => "",
    };

    private static void Kill(WorkerProcess worker)
    {
        worker.Killed = true;
        worker.Signal(Signals.SigKill);
        // An exchange still waiting on a slot sees its socket closed and answers 502 or 504.
        worker.Control?.Dispose();
        foreach (var slot in worker.Slots)
        {
            slot.Connection.Dispose();
        }

        foreach (var unpaired in worker.UnpairedSlots.Values)
        {
            unpaired.Dispose();
        }

        foreach (var (_, early) in worker.EarlyArrivals)
        {
            early.Dispose();
        }
    }

    private void ScheduleAfterCrash()
    {
        _recentCrashes++;
        var backoff = TimeSpan.FromMilliseconds(Math.Min(MaxBackoff.TotalMilliseconds, 100 * Math.Pow(2, _recentCrashes - 1)));
        _spawnNotBefore = _time.GetTimestamp() + (long)(backoff.TotalSeconds * _time.TimestampFrequency);
        ScheduleSpawn(backoff);
    }

    private void ScheduleSpawn(TimeSpan delay)
    {
        if (_spawnScheduled)
        {
            return;
        }

        _spawnScheduled = true;
        After(delay, new SupervisorEvent.SpawnDue());
    }

    private void StopEverything()
    {
        _stopping = true;
        _dispatcher.Close();
        foreach (var worker in _workers.Values)
        {
            // Stopping comes after the web server's graceful stop: a request still running has outlived
            // the graceful timeout and its client was cut off. Its worker goes now, not after the
            // zygote's own grace for its children.
            if (worker.BusyCount > 0)
            {
                Kill(worker);
            }

            worker.State = WorkerState.Dead;
            worker.Control?.Dispose();
        }

        // EOF on its connection makes a zygote SIGTERM the workers it forked and exit. One still
        // importing the app (a reload's) reads no connection and forked nothing: it goes at once.
        _zygoteConnection?.Dispose();
        if (_zygote is { } loading && !_zygoteReady)
        {
            KillWithChildren(loading);
        }

        foreach (var retiring in _retiring)
        {
            retiring.Connection.Dispose();
        }

        foreach (var zygote in _retiring.Select(r => (Process?)r.Process).Prepend(_zygote))
        {
            if (zygote is not null && !zygote.WaitForExit(TimeSpan.FromSeconds(5)))
            {
                KillWithChildren(zygote);
            }
        }

        foreach (var worker in _workers.Values)
        {
            worker.Signal(Signals.SigKill);
            worker.Forget();
        }

        _events.Writer.TryComplete();
    }

    private void Watch()
    {
        _dispatcher.ExpireWaiters();
        var now = _time.GetTimestamp();
        if (_runtimeTouchedAt == 0 || _time.GetElapsedTime(_runtimeTouchedAt, now) >= TempAging.Period)
        {
            _runtimeTouchedAt = now;
            if (!TempAging.Refresh([RuntimeDirectory, _listener!.Path], _time.GetUtcNow().UtcDateTime) && !_runtimeMissingLogged)
            {
                _runtimeMissingLogged = true;
                LogRuntimeMissing(_logger, RuntimeDirectory);
            }
        }

        if (_settings.MaxMemory > 0 && _time.GetElapsedTime(_memoryCheckedAt, now) >= MemoryCheckPeriod)
        {
            _memoryCheckedAt = now;
            Post(new SupervisorEvent.MemoryCheckDue());
        }

        foreach (var slot in _dispatcher.OverdueSlots(now))
        {
            slot.TimedOut = true;
            Post(new SupervisorEvent.TimedOut(slot, _settings.Timeout));
        }
    }

    /// <summary>A zygote a reload replaced, kept until the workers it forked (and reaps) are gone.</summary>
    /// <param name="WorkerGeneration">The generation of the workers it served when a reload replaced it, restored if the reload fails.</param>
    private sealed record RetiringZygote(Process Process, FrameConnection Connection, int Generation, IReadOnlyDictionary<string, string> Environment, int WorkerGeneration);
}
