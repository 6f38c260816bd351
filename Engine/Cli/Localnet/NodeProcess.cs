using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace IdOS.Akka.Engine.Cli.Localnet;

/// <summary>
/// A process of the engine executable (a validator's `run --config`, an RPC system's `rpc --config`) as operators run
/// them, for every tool that runs a network of them on one machine: localnet, the process tests and the benchmarks.
/// Its output goes, line by line, to the sink it was started with.
/// </summary>
public sealed class NodeProcess : IAsyncDisposable
{
    /// <summary>Linux's signal numbers.</summary>
    public const int Terminate = 15;
    public const int StopSignal = 19;
    public const int ContinueSignal = 18;

    // A tool stopped by a signal may never reach its disposals; these let it kill what it started (KillAll).
    private static readonly ConcurrentDictionary<int, Process> Running = new();

    private readonly Process _process;
    private readonly Action<string> _output;
    private readonly IDisposable? _ownedLog;

    private NodeProcess(Process process, Action<string> output, IDisposable? ownedLog)
    {
        _process = process;
        _output = output;
        _ownedLog = ownedLog;
    }

    /// <summary>The engine executable beside the running assembly.</summary>
    public static string Executable =>
        Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "idos-engine.exe" : "idos-engine");

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <param name="arguments">The command and its options, e.g. <c>run --config node1.conf</c>.</param>
    /// <param name="output">Receives every line the process prints, from either stream; called from reader threads.</param>
    /// <param name="environment">Variables added to the process's environment (a preloaded clock, say).</param>
    public static NodeProcess Start(IReadOnlyList<string> arguments, Action<string> output,
        IReadOnlyDictionary<string, string>? environment = null) => Start(arguments, output, null, environment);

    /// <summary>Starts the process with its output appended to <paramref name="log"/>, which it owns and closes when disposed.</summary>
    public static NodeProcess Start(IReadOnlyList<string> arguments, TextWriter log,
        IReadOnlyDictionary<string, string>? environment = null) => Start(arguments, AppendTo(log), log, environment);

    private static NodeProcess Start(IReadOnlyList<string> arguments, Action<string> output, IDisposable? ownedLog,
        IReadOnlyDictionary<string, string>? environment)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        ArgumentNullException.ThrowIfNull(output);
        var info = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (!File.Exists(Executable))
        {
            // Run as `dotnet idos-engine.dll` from a folder without the native launcher.
            info.FileName = "dotnet";
            info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "idos-engine.dll"));
        }

        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {info.FileName}");
        Running[process.Id] = process;
        var node = new NodeProcess(process, output, ownedLog);
        process.OutputDataReceived += (_, e) => node.Forward(e.Data);
        process.ErrorDataReceived += (_, e) => node.Forward(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return node;
    }

    /// <summary>A sink that appends to <paramref name="log"/>, safe for both output streams and for lines after it closed.</summary>
    public static Action<string> AppendTo(TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(log);
        var gate = new Lock();
        return line =>
        {
            lock (gate)
            {
                try
                {
                    log.WriteLine(line);
                }
                catch (ObjectDisposedException)
                {
                    // A last line after the log was closed has nowhere to go.
                }
            }
        };
    }

    /// <summary>CPU time used so far; an exited process is an error, since its share would be missing from any figure.</summary>
    public TimeSpan Cpu()
    {
        _process.Refresh();
        return _process.HasExited
            ? throw new InvalidOperationException($"engine process {_process.Id} exited with code {_process.ExitCode}")
            : _process.TotalProcessorTime;
    }

    /// <summary>kill -9: the process gets no chance to stop cleanly. Returns once it is gone.</summary>
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

        _process.WaitForExit();
    }

    public void Signal(int signal)
    {
        if (SendSignal(_process.Id, signal) != 0)
        {
            throw new InvalidOperationException(
                $"signal {signal} to engine process {_process.Id} failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>False if the process had already gone.</summary>
    public bool TrySignal(int signal) => SendSignal(_process.Id, signal) == 0;

    /// <summary>Waits for the process to exit; throws <see cref="OperationCanceledException"/> after <paramref name="timeout"/>.</summary>
    public async Task WaitForExit(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cancel.Token);
    }

    /// <summary>
    /// The operator's stop for a whole network: SIGTERM to every process at once, so each node leaves the cluster and
    /// closes its stores, then kill -9 of any still running after <paramref name="grace"/>. Every process is disposed;
    /// returns the ids of those that had to be killed.
    /// </summary>
    public static async Task<List<int>> StopAll(IReadOnlyList<NodeProcess> processes, TimeSpan grace)
    {
        ArgumentNullException.ThrowIfNull(processes);
        foreach (var process in processes.Where(p => !p.HasExited))
        {
            process.TrySignal(Terminate);
        }

        var killed = new List<int>();
        var deadline = DateTime.UtcNow + grace;
        foreach (var process in processes)
        {
            try
            {
                await process.WaitForExit(TimeSpan.FromTicks(Math.Max(1, (deadline - DateTime.UtcNow).Ticks)));
            }
            catch (OperationCanceledException)
            {
                process.Kill();
                killed.Add(process.Id);
            }

            await process.DisposeAsync();
        }

        return killed;
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
        _process.Dispose();
        _ownedLog?.Dispose();
    }

    /// <summary>kill -9 of every process started here and not yet disposed: for a tool stopped by a signal.</summary>
    public static void KillAll()
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

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    private void Forward(string? line)
    {
        if (line is not null)
        {
            _output(line);
        }
    }
}

/// <summary>Loopback ports for a network on one machine.</summary>
public static class LocalPorts
{
    // Below the kernel's range for outgoing connections (32768 and up on Linux), so that no connection another
    // process opens takes a port between its choice here and the node's bind.
    private const int First = 20_000;
    private const int Last = 32_000;

    private static readonly Lock Gate = new();
    private static readonly HashSet<int> Handed = [];

    /// <summary>Ports free right now, never handed out before in this process, all held until all are chosen.</summary>
    public static List<int> Free(int count)
    {
        lock (Gate)
        {
            var listeners = new List<TcpListener>();
            try
            {
                for (var attempt = 0; listeners.Count < count; attempt++)
                {
                    if (attempt == 10_000)
                    {
                        throw new InvalidOperationException($"no {count} free loopback ports between {First} and {Last}");
                    }

                    var port = Random.Shared.Next(First, Last);
                    if (Handed.Contains(port))
                    {
                        continue;
                    }

                    var listener = new TcpListener(IPAddress.Loopback, port);
                    try
                    {
                        listener.Start();
                    }
                    catch (SocketException)
                    {
                        continue;
                    }

                    listeners.Add(listener);
                    Handed.Add(port);
                }

                return [.. listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port)];
            }
            finally
            {
                listeners.ForEach(l => l.Stop());
            }
        }
    }
}
