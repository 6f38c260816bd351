using Akka.Configuration;
using IdOS.Akka.Engine.Chain;
using IdOS.Akka.Engine.Cli.Localnet;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Hosting;

namespace IdOS.Akka.Engine.Tests.Cluster;

/// <summary>
/// A validator network on disk for tests: a <see cref="LoopbackNetwork"/> in a temporary folder, with gossip faster
/// than production so tests wait less, removed when the test ends.
/// </summary>
internal sealed class TestNetwork : IDisposable
{
    /// <summary>Faster gossip than production so tests wait less; everything else is the shipped configuration.</summary>
    public const string FastGossip = """
        akka.cluster.seed-node-timeout = 2s
        akka.cluster.gossip-interval = 200ms
        akka.cluster.leader-actions-interval = 200ms
        akka.cluster.retry-unsuccessful-join-after = 2s
        akka.loglevel = WARNING
        """;

    private readonly LoopbackNetwork _files;

    /// <param name="validators">How many validators the genesis lists.</param>
    /// <param name="overrides">HOCON written into every node's file, above the shipped defaults.</param>
    /// <param name="application">opaque for tests of consensus alone (signed counters); idos for the state machine.</param>
    /// <param name="beforePrepare">Runs after the node files are written and before missing keys and genesis are made, to make them another way.</param>
    /// <param name="behindProxies">
    /// Each node binds a port of its own and advertises another (Akka's public-port), where a fault proxy is to listen:
    /// <see cref="Ports"/> are the advertised ones, <see cref="BackendPorts"/> the bound ones.
    /// </param>
    /// <param name="snapshotInterval">Blocks between state snapshots, in the genesis.</param>
    /// <param name="joiners">Node files after the validators' with keys genesis leaves out, for nodes that join through governance.</param>
    public TestNetwork(int validators, string overrides = "", string application = "opaque", Action<TestNetwork>? beforePrepare = null, bool behindProxies = false,
        long snapshotInterval = ChainParameters.DefaultSnapshotInterval, int joiners = 0)
    {
        _files = LoopbackNetwork.Write(Directory.CreateTempSubdirectory("idos-net-").FullName, new LoopbackNetworkOptions
        {
            Validators = validators,
            Application = application,
            RpcMemberName = "test client",
            Overrides = FastGossip + "\n" + overrides,
            BehindProxies = behindProxies,
            SnapshotInterval = snapshotInterval,
            Joiners = joiners,
        });
        beforePrepare?.Invoke(this);
        (Chain, Transport) = _files.Prepare("idos-akka-test");
    }

    /// <summary>The TLS certificate of the RPC member every node lists (its key is beside it), which the test's clients and RPC systems present.</summary>
    public string RpcCertificate => _files.RpcCertificate;

    /// <summary>How the test's clients connect: as the RPC member every node lists, over TLS unless the overrides say insecure.</summary>
    public Engine.Network.TransportSecurity Transport { get; }

    public string Root => _files.Root;

    /// <summary>The ed25519 key of the idOS database owner named in genesis.</summary>
    public string OwnerKey => _files.OwnerKeyFile;

    /// <summary>The port each node is known by: its address in seeds, in the cluster and to clients.</summary>
    public IReadOnlyList<int> Ports => _files.Ports;

    /// <summary>The port each node binds: the same as <see cref="Ports"/> unless the network is behind proxies.</summary>
    public IReadOnlyList<int> BackendPorts => _files.BackendPorts;

    /// <summary>Where each node serves `/metrics` and `/health`.</summary>
    public IReadOnlyList<Uri> MetricsEndpoints => [.. _files.MetricsPorts.Select(port => new Uri($"http://127.0.0.1:{port}/"))];

    /// <summary>Each node's admin listener, as `status --node` takes it.</summary>
    public IReadOnlyList<string> AdminListeners => [.. _files.AdminPorts.Select(port => $"127.0.0.1:{port}")];

    public IReadOnlyList<string> ConfigPaths => _files.ConfigPaths;

    public ChainParameters Chain { get; }

    public string DataDirectory(int validator) => _files.DataDirectory(validator);

    public string KeyFile(int validator) => _files.KeyFile(validator);

    public string BlockStorePath(int validator) => Path.Combine(DataDirectory(validator), ValidatorNode.BlockStoreFileName);

    /// <summary>The node's configuration as `run --config` layers it, with <paramref name="extra"/> on top.</summary>
    public Config ConfigOf(int validator, string extra = "") =>
        ConfigurationFactory.ParseString(extra).WithFallback(NodeConfig.Load(ConfigPaths[validator]));

    /// <summary>Committed block ids up to <paramref name="height"/>, read from the node's own file (WAL lets a reader in while it runs).</summary>
    public List<Engine.Crypto.Hash32> CommittedIds(int validator, long height)
    {
        using var store = new SqliteBlockStore(BlockStorePath(validator), Chain.Limits);
        return store.BlockIdsUpTo(height);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A process that was just killed may still hold a file for a moment; the temp folder is not worth failing a test over.
        }
    }
}

internal static class Eventually
{
    public static readonly TimeSpan DefaultDeadline = TimeSpan.FromSeconds(90);

    /// <summary>Polls until the condition holds; on the deadline, fails with what was awaited and what was last seen.</summary>
    public static async Task Holds(Func<Task<(bool Done, string Observed)>> condition, string what, TimeSpan? deadline = null)
    {
        var limit = deadline ?? DefaultDeadline;
        var started = DateTime.UtcNow;
        var observed = "";
        while (DateTime.UtcNow - started < limit)
        {
            try
            {
                bool done;
                (done, observed) = await condition();
                if (done)
                {
                    return;
                }
            }
            // 5 and 6 are SQLITE_BUSY and SQLITE_LOCKED: a node's database read while the node writes it.
            catch (Exception e) when (e is TimeoutException or global::Akka.Actor.AskTimeoutException or Microsoft.Data.Sqlite.SqliteException { SqliteErrorCode: 5 or 6 })
            {
                observed = e.Message;
            }

            await Task.Delay(200);
        }

        Xunit.Assert.Fail($"timed out after {limit.TotalSeconds} s waiting for {what}; last observed: {observed}");
    }
}
