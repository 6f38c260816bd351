using System.Text;
using Akka.Actor;
using IdOS.Akka.Engine.Application;
using IdOS.Akka.Engine.Cli.Localnet;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Gateway;
using IdOS.Akka.Engine.Network;
using IdOS.Akka.Engine.Tests.Cluster;

namespace IdOS.Akka.Engine.Tests.EndToEnd;

/// <summary>
/// The validators of a <see cref="TestNetwork"/> as separate OS processes of the built executable (`idos-engine run
/// --config`), talking real TCP. Kill is SIGKILL: no graceful path. Output is kept per node for failure messages.
/// </summary>
internal sealed class NodeProcesses : IAsyncDisposable
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(5);
    private readonly NodeProcess?[] _processes;
    private readonly StringBuilder[] _logs;
    private readonly Ed25519PrivateKey _client = Ed25519PrivateKey.GenerateExportable();
    private long _nextTransaction;
    private bool _disposed;

    public NodeProcesses(TestNetwork network)
    {
        Network = network;
        _processes = new NodeProcess?[network.ConfigPaths.Count];
        _logs = [.. network.ConfigPaths.Select(_ => new StringBuilder())];
        Client = NodeClient.Create(network.Transport);
        Addresses = [.. network.Ports.Select(port => NodeClient.NodeAddress("127.0.0.1", port, network.Transport))];
    }

    public TestNetwork Network { get; }

    public NodeClient Client { get; }

    public IReadOnlyList<Address> Addresses { get; }

    public static string Executable => NodeProcess.Executable;

    public bool IsRunning(int validator) => _processes[validator] is { HasExited: false };

    /// <summary>The validator's process id while it runs, for tools that find its sockets.</summary>
    public int? ProcessId(int validator) => _processes[validator] is { HasExited: false } process ? process.Id : null;

    /// <param name="validator">Which node file to run.</param>
    /// <param name="environment">Variables added to the process's environment (a preloaded clock, say).</param>
    public void Start(int validator, IReadOnlyDictionary<string, string>? environment = null)
    {
        var log = _logs[validator];
        var process = NodeProcess.Start(["run", "--config", Network.ConfigPaths[validator]], line => Append(log, line), environment);
        Append(log, $"--- started pid {process.Id}");
        _processes[validator] = process;
    }

    /// <summary>kill -9.</summary>
    public void Kill(int validator)
    {
        var process = _processes[validator] ?? throw new InvalidOperationException($"validator {validator} was not started");
        process.Kill();
    }

    /// <summary>SIGSTOP: the process hangs with its connections open, as in a long pause.</summary>
    public void Pause(int validator) => Started(validator).Signal(NodeProcess.StopSignal);

    /// <summary>SIGCONT after <see cref="Pause"/>.</summary>
    public void Resume(int validator) => Started(validator).Signal(NodeProcess.ContinueSignal);

    /// <summary>SIGTERM, the operator's stop: the node leaves the cluster and closes its files.</summary>
    public async Task Stop(int validator, TimeSpan timeout)
    {
        Started(validator).Signal(NodeProcess.Terminate);
        await WaitForExit(validator, timeout);
    }

    private NodeProcess Started(int validator) =>
        _processes[validator] ?? throw new InvalidOperationException($"validator {validator} was not started");

    /// <summary>Everything the node printed, for checks on what it logs.</summary>
    public string FullLog(int validator)
    {
        lock (_logs[validator])
        {
            return _logs[validator].ToString();
        }
    }

    public Task WaitForExit(int validator, TimeSpan timeout) => Started(validator).WaitForExit(timeout);

    public string Log(int validator)
    {
        lock (_logs[validator])
        {
            var text = _logs[validator].ToString();
            return text.Length > 6_000 ? "..." + text[^6_000..] : text;
        }
    }

    /// <summary>
    /// A test failure with the tail of every validator's output appended; with IDOS_FAULT_LOGS naming a folder, each
    /// validator's whole output is also written there.
    /// </summary>
    public Xunit.Sdk.XunitException WithLogs(Xunit.Sdk.XunitException failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        var validators = Enumerable.Range(0, _logs.Length);
        if (Environment.GetEnvironmentVariable("IDOS_FAULT_LOGS") is { Length: > 0 } folder)
        {
            foreach (var v in validators)
            {
                File.WriteAllText(Path.Combine(folder, $"validator{v}.log"), FullLog(v));
            }
        }

        return new Xunit.Sdk.XunitException(failure.Message + string.Concat(validators.Select(v => $"\nvalidator {v}:\n{Log(v)}")), failure);
    }

    public async Task<NodeStatus?> Status(int validator)
    {
        try
        {
            return await Client.Status(Addresses[validator], AskTimeout);
        }
        catch (Exception e) when (e is AskTimeoutException or TimeoutException)
        {
            return null;
        }
    }

    public async Task<NodeStatus?[]> Statuses(IEnumerable<int> validators) => await Task.WhenAll(validators.Select(Status));

    public static string Describe(IEnumerable<NodeStatus?> statuses) =>
        string.Join("; ", statuses.Select(s => s is null ? "(no answer)"
            : $"v{s.Validator}: height {s.Height} (executed {s.ExecutedHeight}), round {s.Round}, {s.CommittedTransactions} tx, {s.PeersConnected} peers, " +
              $"epoch {s.Epoch} of {s.SetSize}{(s.Voting ? "" : ", not voting")}"));

    /// <summary>Fresh signed 100-byte transactions to one validator; returns them with the node's verdicts, or null verdicts if it did not answer.</summary>
    public async Task<(List<byte[]> Transactions, SubmitResults? Results)> Submit(int validator, int count)
    {
        var transactions = Enumerable.Range(0, count)
            .Select(_ => OpaqueTransaction.CreateNumbered(_client, Interlocked.Increment(ref _nextTransaction), 100)).ToList();
        try
        {
            return (transactions, await Client.Submit(Addresses[validator], transactions, AskTimeout));
        }
        catch (Exception e) when (e is AskTimeoutException or TimeoutException)
        {
            return (transactions, null);
        }
    }

    /// <summary>Kills whatever still runs; safe to call again, so a test can stop the nodes before reading their files.</summary>
    public async ValueTask DisposeAsync()
    {
        for (var i = 0; i < _processes.Length; i++)
        {
            if (_processes[i] is { } process)
            {
                await process.DisposeAsync();
                _processes[i] = null;
            }
        }

        if (!_disposed)
        {
            _disposed = true;
            await Client.DisposeAsync();
            _client.Dispose();
        }
    }

    private static void Append(StringBuilder log, string line)
    {
        lock (log)
        {
            log.Append(DateTime.UtcNow.ToString("HH:mm:ss.fff ", System.Globalization.CultureInfo.InvariantCulture)).AppendLine(line);
        }
    }
}
