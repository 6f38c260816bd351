using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace IdOS.Akka.Engine.Bench;

/// <summary>
/// A validator (`run --config`) or an RPC system (`rpc --config`) run as operators run them: the engine executable
/// beside this one.
/// </summary>
internal sealed class EngineProcess : IAsyncDisposable
{
    // A benchmark stopped by SIGTERM, SIGHUP or Ctrl-C never reaches its disposals (and AppDomain.ProcessExit was seen not
    // to run on SIGTERM here); without this its validators live on, holding ports and CPU and skewing the next run.
    private static readonly ConcurrentDictionary<int, Process> Running = new();

    // Held for the life of the process: a registration that is collected stops handling its signal.
    private static readonly PosixSignalRegistration[] StopSignals =
        [.. new[] { PosixSignal.SIGTERM, PosixSignal.SIGINT, PosixSignal.SIGHUP }.Select(signal => PosixSignalRegistration.Create(signal, _ => KillRunning()))];

    private readonly Process _process;
    private readonly TextWriter _log;
    private readonly Lock _gate = new();

    private EngineProcess(Process process, TextWriter log)
    {
        _process = process;
        _log = log;
    }

    public int Id => _process.Id;

    /// <summary>Starts the engine with <paramref name="configPath"/>; its output goes to <paramref name="log"/>, which it then owns.</summary>
    public static EngineProcess Start(string configPath, TextWriter log, string command = "run")
    {
        var info = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "idos-engine.exe" : "idos-engine"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(command);
        info.ArgumentList.Add("--config");
        info.ArgumentList.Add(configPath);
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start the engine executable");
        Running[process.Id] = process;
        var engine = new EngineProcess(process, log);
        process.OutputDataReceived += (_, e) => engine.Append(e.Data);
        process.ErrorDataReceived += (_, e) => engine.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return engine;
    }

    /// <summary>CPU time used so far; an exited validator is an error, since its share would be missing from any figure.</summary>
    public TimeSpan Cpu()
    {
        _process.Refresh();
        return _process.HasExited
            ? throw new InvalidOperationException($"engine process {_process.Id} ({_process.StartInfo.ArgumentList[0]}) exited with code {_process.ExitCode}")
            : _process.TotalProcessorTime;
    }

    /// <summary>Linux's numbers for SIGSTOP and SIGCONT.</summary>
    public const int StopSignal = 19;
    public const int ContinueSignal = 18;

    /// <summary>kill -9: the process gets no chance to stop cleanly.</summary>
    public void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It had exited already.
        }
    }

    public void Signal(int signal)
    {
        if (SendSignal(_process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"signal {signal} to engine process {_process.Id} failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It had exited already.
        }

        await _process.WaitForExitAsync();
        Running.TryRemove(_process.Id, out _);
        lock (_gate)
        {
            _log.Dispose();
        }

        _process.Dispose();
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    private static void KillRunning()
    {
        foreach (var process in Running.Values)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // It had exited already, or could not be killed: the others still must be.
            }
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            try
            {
                _log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
                // A last line after the process was disposed has nowhere to go.
            }
        }
    }
}

internal static class LocalPorts
{
    /// <summary>Loopback ports free right now, all held until all are chosen so that none repeats.</summary>
    public static List<int> Free(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ =>
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return listener;
        }).ToList();
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToList();
        listeners.ForEach(l => l.Stop());
        return ports;
    }
}
