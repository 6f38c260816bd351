using System.Globalization;
using Akka.Actor;
using IdOS.Akka.Engine.Hosting;

namespace IdOS.Akka.Engine.Bench.Cluster;

/// <summary>
/// The validators of one run on 127.0.0.1, in a temporary folder: node files, keys, genesis and data folders made
/// for the run, the validators started as processes of the engine executable (as operators run them) or, with
/// --in-process, as ActorSystems in this process; everything is removed when the run ends.
/// </summary>
internal sealed class BenchNetwork : IAsyncDisposable
{
    private readonly string _root;
    private readonly List<EngineProcess> _processes = [];
    private readonly List<ValidatorNode> _nodes = [];
    private bool _keepFiles;

    private BenchNetwork(string root, IReadOnlyList<Address> addresses)
    {
        _root = root;
        Addresses = addresses;
    }

    public IReadOnlyList<Address> Addresses { get; }

    /// <summary>Leaves the folder (node files, logs, data) behind when the run ends, for a failure to be looked into.</summary>
    public void KeepFiles() => _keepFiles = true;

    public static BenchNetwork Start(ClusterSettings settings)
    {
        var root = Directory.CreateTempSubdirectory("idos-cluster-bench-").FullName;
        var ports = LocalPorts.Free(settings.Validators);
        var seeds = string.Join(", ", ports.Take(2).Select(p => $"\"akka.tcp://{ValidatorNode.SystemName}@127.0.0.1:{p}\""));
        var paths = Enumerable.Range(0, settings.Validators).Select(i =>
        {
            var path = Path.Combine(root, $"node{i + 1}.conf");
            File.WriteAllText(path, string.Create(CultureInfo.InvariantCulture, $$"""
                idos.node {
                  application = noop
                  key-file = "{{Path.Combine(root, $"node{i + 1}", "validator.key")}}"
                  genesis-file = "{{Path.Combine(root, "genesis.json")}}"
                  data-directory = "{{Path.Combine(root, $"node{i + 1}")}}"
                }
                idos.consensus.max-transactions-per-block = {{settings.Batch}}
                akka.remote.dot-netty.tcp.port = {{ports[i]}}
                akka.cluster.seed-nodes = [{{seeds}}]
                akka.cluster.seed-node-timeout = 2s
                akka.cluster.retry-unsuccessful-join-after = 2s
                akka.loglevel = WARNING
                """));
            return path;
        }).ToList();
        LocalNetwork.Prepare([.. paths.Select(NodeConfig.Load)], "idos-cluster-bench", Path.Combine(root, "owner.key"));

        var network = new BenchNetwork(root, [.. ports.Select(p => NodeClient.NodeAddress("127.0.0.1", p))]);
        try
        {
            foreach (var path in paths)
            {
                if (settings.InProcess)
                {
                    network._nodes.Add(ValidatorNode.Start(NodeConfig.Load(path)));
                }
                else
                {
                    network._processes.Add(EngineProcess.Start(path, new StreamWriter(Path.ChangeExtension(path, ".log")) { AutoFlush = true }));
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
    /// CPU time the validator processes used so far; zero in process, where the validators' time is this process's.
    /// A validator that has exited is an error: its figures would be missing from the result.
    /// </summary>
    public TimeSpan ValidatorCpu()
    {
        try
        {
            return _processes.Aggregate(TimeSpan.Zero, (total, process) => total + process.Cpu());
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException($"{e.Message}; the validators' logs are in {_root}", e);
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

        throw new TimeoutException($"the validators were not all committing and connected within {limit.TotalSeconds:0} s ({observed}); logs in {_root}");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }

        await Task.WhenAll(_nodes.Select(n => n.DisposeAsync().AsTask()));
        if (_keepFiles)
        {
            return;
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A validator just killed may hold a file for a moment; a leftover temporary folder is not worth failing over.
        }
    }
}
