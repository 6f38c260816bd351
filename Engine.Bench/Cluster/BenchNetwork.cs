using System.Globalization;
using Akka.Actor;
using IdOS.Akka.Engine.Cli.Localnet;
using IdOS.Akka.Engine.Gateway;
using IdOS.Akka.Engine.Hosting;
using IdOS.Akka.Engine.Network;

namespace IdOS.Akka.Engine.Bench.Cluster;

/// <summary>
/// The validators of one run on 127.0.0.1, in a temporary folder: node files, keys, genesis and data folders made
/// for the run, the validators started as processes of the engine executable (as operators run them) or, with
/// --in-process, as ActorSystems in this process; for the idOS workload also the RPC system in front of them, the
/// same way. Everything is removed when the run ends.
/// </summary>
internal sealed class BenchNetwork : IAsyncDisposable
{
    private readonly LoopbackNetwork _files;
    private readonly List<NodeProcess> _processes = [];
    private readonly HashSet<int> _down = [];
    private TimeSpan _cpuOfKilled;
    private readonly List<ValidatorNode> _nodes = [];
    private NodeProcess? _rpcProcess;
    private Faults.FaultProxies? _proxies;
    private RpcHost? _rpcHost;
    private bool _keepFiles;

    private BenchNetwork(LoopbackNetwork files, string chainId, TransportSecurity transport)
    {
        Transport = transport;
        _files = files;
        Addresses = files.Addresses(transport);
        ChainId = chainId;
    }

    public IReadOnlyList<Address> Addresses { get; }

    /// <summary>How the benchmark's clients and RPC system connect: as the RPC member the validators list, over TLS unless --insecure.</summary>
    public TransportSecurity Transport { get; }

    public string ChainId { get; }

    /// <summary>The genesis owner's key, who registers the idOS workload's issuer.</summary>
    public string OwnerKeyFile => _files.OwnerKeyFile;

    /// <summary>The RPC system's JSON-RPC endpoint; null without one (the noop workload talks to validators directly).</summary>
    public Uri? RpcEndpoint { get; private set; }

    /// <summary>Leaves the folder (node files, logs, data) behind when the run ends, for a failure to be looked into.</summary>
    public void KeepFiles() => _keepFiles = true;

    public static BenchNetwork Start(ClusterSettings settings)
    {
        // A partition is cut at TCP proxies the validators advertise as their addresses; other runs go direct.
        var proxied = settings.Fault?.Kind == FaultKind.Partition;
        var files = LoopbackNetwork.Write(Directory.CreateTempSubdirectory("idos-cluster-bench-").FullName, new LoopbackNetworkOptions
        {
            Validators = settings.Validators,
            Application = settings.IsIdos ? "idos" : "noop",
            RpcMemberName = "bench",
            BehindProxies = proxied,
            Overrides = string.Create(CultureInfo.InvariantCulture, $"""
                idos.node.insecure = {(settings.Insecure ? "on" : "off")}
                idos.consensus.max-transactions-per-block = {settings.Batch}
                {(settings.IdleIntervalMs is { } idle ? $"idos.consensus.idle-interval = {idle}ms" : "")}
                """),
        });
        var (chain, transport) = files.Prepare("idos-cluster-bench");
        var network = new BenchNetwork(files, chain.ChainId, transport);
        try
        {
            if (proxied)
            {
                network._proxies = new Faults.FaultProxies(files.Ports, files.BackendPorts,
                    validator => validator < network._processes.Count && !network._down.Contains(validator) ? network._processes[validator].Id : null);
            }

            foreach (var path in files.ConfigPaths)
            {
                if (settings.InProcess)
                {
                    network._nodes.Add(ValidatorNode.Start(NodeConfig.Load(path)));
                }
                else
                {
                    network._processes.Add(NodeProcess.Start(["run", "--config", path], new StreamWriter(Path.ChangeExtension(path, ".log")) { AutoFlush = true }));
                }
            }
        }
        catch
        {
            network.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }

        return network;
    }

    /// <summary>
    /// Starts the RPC system in front of the validators (its own process, or in this one with --in-process) and waits
    /// until it answers. Every client of the benchmark comes from 127.0.0.1, so the per-address write limit, which
    /// guards a public endpoint, is lifted; everything else is as hocon/rpc.conf sets it.
    /// </summary>
    public async Task StartRpc(ClusterSettings settings, TimeSpan limit)
    {
        var port = LocalPorts.Free(1)[0];
        var path = _files.WriteRpcConfig(port, Transport, "rate-limits { writes-per-second = 1000000000, writes-burst = 1000000000 }");
        if (settings.InProcess)
        {
            _rpcHost = await RpcHost.Start(RpcSettings.FromConfig(NodeConfig.Load(path)));
            RpcEndpoint = _rpcHost.Endpoint;
        }
        else
        {
            _rpcProcess = NodeProcess.Start(["rpc", "--config", path], new StreamWriter(Path.ChangeExtension(path, ".log")) { AutoFlush = true });
            RpcEndpoint = new Uri($"http://127.0.0.1:{port}{Rpc.Http.RpcHttpServer.Path}");
        }

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + limit;
        var observed = "no answer yet";
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"user.chain_info","params":{}}""", System.Text.Encoding.UTF8, "application/json");
                using var response = await http.PostAsync(RpcEndpoint, content);
                var body = await response.Content.ReadAsStringAsync();
                if (response.IsSuccessStatusCode && body.Contains(ChainId, StringComparison.Ordinal))
                {
                    return;
                }

                observed = $"HTTP {(int)response.StatusCode}: {body}";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                observed = e.Message;
            }

            RpcCpu();
            await Task.Delay(200);
        }

        throw new TimeoutException($"the RPC system did not answer user.chain_info within {limit.TotalSeconds:0} s ({observed}); logs in {_files.Root}");
    }

    /// <summary>CPU time the RPC process used so far; zero without one or in process.</summary>
    public TimeSpan RpcCpu()
    {
        try
        {
            return _rpcProcess?.Cpu() ?? TimeSpan.Zero;
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException($"{e.Message}; the logs are in {_files.Root}", e);
        }
    }

    /// <summary>
    /// CPU time the validator processes used so far, those killed by a fault up to their end; zero in process, where
    /// the validators' time is this process's. A validator that exited by itself is an error: its figures would be
    /// missing from the result.
    /// </summary>
    public TimeSpan ValidatorCpu()
    {
        try
        {
            return _processes.Where((_, i) => !_down.Contains(i)).Aggregate(_cpuOfKilled, (total, process) => total + process.Cpu());
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException($"{e.Message}; the validators' logs are in {_files.Root}", e);
        }
    }

    /// <summary>Waits until every validator has committed a block and sees all the others.</summary>
    public async Task WaitUntilReady(NodeClient client, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        var observed = "no answer yet";
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                var statuses = await Task.WhenAll(Addresses.Select(a => client.Status(a, TimeSpan.FromSeconds(2))));
                if (statuses.All(s => s.Height > 0 && s.PeersConnected >= Addresses.Count - 1))
                {
                    return;
                }

                observed = string.Join("; ", statuses.Select(s => $"validator {s.Validator}: height {s.Height}, {s.PeersConnected} peers"));
            }
            catch (Exception e) when (e is AskTimeoutException or TimeoutException)
            {
                observed = e.Message;
            }

            ValidatorCpu();
            await Task.Delay(200);
        }

        throw new TimeoutException($"the validators were not all committing and connected within {limit.TotalSeconds:0} s ({observed}); logs in {_files.Root}");
    }

    /// <summary>Copies every process's log (validators and RPC system) into <paramref name="directory"/>.</summary>
    public void CopyLogsTo(string directory)
    {
        Directory.CreateDirectory(directory);
        foreach (var log in Directory.EnumerateFiles(_files.Root, "*.log"))
        {
            File.Copy(log, Path.Combine(directory, Path.GetFileName(log)), overwrite: true);
        }
    }

    /// <summary>kill -9 of validator <paramref name="validator"/> (0-based), as a crash.</summary>
    public void Kill(int validator)
    {
        _cpuOfKilled += _processes[validator].Cpu();
        _down.Add(validator);
        _processes[validator].Kill();
    }

    /// <summary>Starts a killed validator again on its own data folder, its log continued.</summary>
    public async Task Restart(int validator)
    {
        await _processes[validator].DisposeAsync();
        var path = _files.ConfigPaths[validator];
        _processes[validator] = NodeProcess.Start(["run", "--config", path], new StreamWriter(Path.ChangeExtension(path, ".log"), append: true) { AutoFlush = true });
        _down.Remove(validator);
    }

    /// <summary>SIGSTOP: the process hangs with its connections open, as a validator stuck in a long pause would.</summary>
    public void Pause(int validator) => _processes[validator].Signal(NodeProcess.StopSignal);

    public void Resume(int validator) => _processes[validator].Signal(NodeProcess.ContinueSignal);

    /// <summary>Cuts every link to and from <paramref name="validator"/> at the fault proxies (a partition run only).</summary>
    public void Isolate(int validator) => Proxies.Links.Isolate(validator, Faults.LinkRule.Cutting);

    public void Heal() => Proxies.Links.Heal();

    private Faults.FaultProxies Proxies => _proxies ?? throw new InvalidOperationException("this network runs without fault proxies");

    public async ValueTask DisposeAsync()
    {
        if (_rpcProcess is not null)
        {
            await _rpcProcess.DisposeAsync();
        }

        if (_rpcHost is not null)
        {
            await _rpcHost.DisposeAsync();
        }

        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }

        await Task.WhenAll(_nodes.Select(n => n.DisposeAsync().AsTask()));
        if (_proxies is not null)
        {
            await _proxies.DisposeAsync();
        }

        if (_keepFiles)
        {
            return;
        }

        try
        {
            Directory.Delete(_files.Root, recursive: true);
        }
        catch (IOException)
        {
            // A validator just killed may hold a file for a moment; a leftover temporary folder is not worth failing over.
        }
    }
}
