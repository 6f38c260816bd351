using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using IdOS.Akka.Engine.Actors;
using IdOS.Akka.Engine.Application;
using IdOS.Akka.Engine.Chain;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Network;
using IdOS.Akka.Engine.Observability;
using IdOS.Akka.Engine.Persistence;
using IdOS.Akka.Engine.Rpc.Http;

namespace IdOS.Akka.Engine.Hosting;

/// <summary>
/// One validator: its ActorSystem (joined to the cluster through the seed nodes of its configuration), its block
/// store and application, and the actors between them. Everything that can be wrong with the configuration is
/// found by <see cref="NodeSettings.Load"/> before anything starts.
/// </summary>
public sealed class ValidatorNode : IAsyncDisposable
{
    public const string SystemName = "idos";
    public const string BlockStoreFileName = "blocks.db";

    /// <summary>The folder of the data directory where state snapshots are kept.</summary>
    public const string SnapshotsFolderName = "snapshots";

    private readonly NodeSettings _settings;
    private readonly SqliteBlockStore _store;
    private readonly IdosApplication? _idos;
    private readonly MetricsHttpServer? _metrics;
    private readonly RpcHttpServer? _admin;

    private ValidatorNode(NodeSettings settings, SqliteBlockStore store, IdosApplication? idos, ActorSystem system, IActorRef consensus,
        IActorRef mempool, IActorRef directory, MetricsHttpServer? metrics, RpcHttpServer? admin)
    {
        _metrics = metrics;
        _admin = admin;
        _settings = settings;
        _store = store;
        _idos = idos;
        System = system;
        Consensus = consensus;
        Mempool = mempool;
        Directory = directory;
    }

    public ActorSystem System { get; }

    public IActorRef Consensus { get; }

    public IActorRef Mempool { get; }

    public IActorRef Directory { get; }

    public int Validator => _settings.ValidatorIndex;

    public ChainParameters Chain => _settings.Chain;

    public string DataDirectory => _settings.DataDirectory;

    /// <summary>Where `GET /metrics` and `GET /health` answer; null when idos.node.metrics is off.</summary>
    public Uri? MetricsAddress => _metrics?.Address;

    /// <summary>Where the admin JSON-RPC answers; null when idos.node.admin.listen is empty.</summary>
    public Uri? AdminAddress => _admin is null ? null : new Uri(_admin.Address, RpcHttpServer.Path);

    /// <summary>Starts a node from its layered configuration; a bad setting throws <see cref="ConfigurationException"/> or <see cref="NodeFileException"/>.</summary>
    public static ValidatorNode Start(Config config)
    {
        var settings = NodeSettings.Load(config);
        SqliteBlockStore? store = null;
        IdosApplication? idos = null;
        ActorSystem? system = null;
        MetricsHttpServer? server = null;
        try
        {
            var limits = settings.Consensus.Limits;
            var blockStorePath = Path.Combine(settings.DataDirectory, BlockStoreFileName);
            store = new SqliteBlockStore(blockStorePath, limits);
            var verifier = new VerifiedSignatureCache(Ed25519Verifier.Instance);
            var metrics = new NodeMetrics();
            var head = new NetworkHead();
            var seeds = ConfigurationFactory.ParseString(
                $"akka.cluster.seed-nodes = [{string.Join(", ", settings.SeedNodes.Select(seed => $"\"{seed}\""))}]");
            system = settings.Transport.CreateSystem(SystemName,
                seeds.WithFallback(PersistenceConfig.ForDataDirectory(settings.DataDirectory)).WithFallback(config), [.. settings.SeedNodes]);
            static long Clock() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

            var directory = system.ActorOf(
                PeerDirectory.Props(new PeerDirectorySetup(settings.Chain, settings.Key, verifier, Clock, settings.SeedNodes)
                {
                    Limits = settings.PeerLimits,
                    Transport = settings.Transport,
                    CloseSilentLinksAfter = settings.CloseSilentLinksAfter,
                    Head = head,
                    Metrics = metrics,
                }),
                PeerDirectory.Name);
            var snapshots = settings.Application == ApplicationKind.Idos
                ? new Storage.Snapshots.SnapshotDirectory(Path.Combine(settings.DataDirectory, SnapshotsFolderName), settings.SnapshotsKept)
                : null;
            if (store.Height > 0 && store.ExecutedHeight == 0 && store.GetByHeight(1) is null)
            {
                // Only a state sync stores blocks as headers before any app hash: this one stopped before its import.
                throw new ConfigurationException(
                    $"An earlier start from a state snapshot was cut off before the snapshot was imported (the block store in {settings.DataDirectory} " +
                    "holds headers only). Empty the data folder, keeping the key and certificate files, and start again.");
            }

            // Served from before a state sync, which can take minutes, so that an operator and a load balancer see why
            // the node is not serving yet.
            var running = new System.Runtime.CompilerServices.StrongBox<IActorRef?>();
            server = settings.MetricsEndpoint is { } endpoint ? ServeMetrics(system, endpoint, running, metrics) : null;
            if (snapshots is not null && settings.StateSync && store.Height == 0 && settings.Chain.SnapshotInterval > 0 && settings.Chain.Validators.Count > 1)
            {
                SyncState(settings, system, directory, store, snapshots);
            }

            IStateMachine app;
            if (snapshots is not null)
            {
                idos = OpenState(settings, store, snapshots);
                app = idos;
            }
            else
            {
                var appHash = store.AppHashAt(store.ExecutedHeight) ?? settings.Chain.GenesisAppHash;
                app = settings.Application == ApplicationKind.Noop
                    ? new NoopApplication(store.ExecutedHeight, appHash)
                    : new OpaqueApplication(store.ExecutedHeight, appHash, verifier);
            }

            ExecutionCatchUp.Run(app, store);

            var pacemaker = system.ActorOf(Props.Create<PacemakerActor>(), PacemakerActor.Name);
            var options = ReplicaOptions.Default with
            {
                Pacemaker = settings.Consensus.Pacemaker,
                MaxExecutionLagBlocks = settings.Consensus.MaxExecutionLagBlocks,
            };
            var mempoolCounters = new MempoolCounters();
            var mempool = system.ActorOf(MempoolActor.Props(new MempoolSetup((transaction, hash) => app.CheckForMempool(transaction, hash),
                store.ConcurrentCommittedLookup(), directory, options.MempoolMaxTransactions, options.MempoolMaxBytes, limits.MaxTransactionBytes,
                limits.MaxTransactionsPerBlock)
            {
                Counters = mempoolCounters,
                Metrics = metrics,
                NextNonce = idos is null ? null : idos.NextNonce,
            }), MempoolActor.Name);
            var syncCounters = new SyncCounters();

            // The crash-safety test's fault point, set only by that test's node files (absent from the shipped
            // defaults): the node kills itself between journaling a vote and sending it.
            var exitAfterPersistingVoteInRound = config.GetLong($"{NodeSettings.Section}.test-fault.exit-after-persisting-vote-in-round", 0);
            var executor = system.ActorOf(ExecutorActor.Props(app, metrics), ExecutorActor.Name);
            var consensus = system.ActorOf(ConsensusActor.Props(new ConsensusActorSetup(
                settings.Chain, settings.ValidatorIndex, settings.Key, verifier, store, executor, options, Clock, directory, pacemaker, mempool,
                exitAfterPersistingVoteInRound)
            {
                Sync = syncCounters,
                MempoolCounters = mempoolCounters,
                ScheduledEpochs = app.ScheduledEpochs,
                Health = (head, settings.Health, metrics),
            }), ConsensusActor.Name);
            var sync = system.ActorOf(SyncActor.Props(new SqliteBlockStore(blockStorePath, limits), limits, settings.PeerLimits, Clock, consensus, directory, syncCounters,
                snapshots), SyncActor.Name);
            var ownState = settings.Application == ApplicationKind.Idos && settings.StateStore.Dialect == Storage.Migrations.SqlDialect.Sqlite
                ? Storage.StateDatabase.Open(settings.StateStore)
                : null;
            var retention = system.ActorOf(RetentionActor.Props(new SqliteBlockStore(blockStorePath, limits), ownState,
                Path.Combine(settings.DataDirectory, PersistenceConfig.FileName), settings.Retention, snapshots), RetentionActor.Name);
            List<IActorRef> watched = [consensus, executor, mempool, directory, pacemaker, sync, retention];
            if (idos is not null)
            {
                var access = settings.Transport.IsTls ? QueryAccess.ForMembers(settings.RpcMembers, Clock) : QueryAccess.Open;
                watched.Add(system.ActorOf(QueryActor.Props(settings.StateStore, settings.Chain.DatabaseOwner, new SqliteBlockStore(blockStorePath, limits), access,
                    settings.Chain.Validators), QueryActor.Name));
            }

            system.ActorOf(CommitFeedActor.Props(store.Height, store.ExecutedHeight), CommitFeedActor.Name);
            system.ActorOf(FailStopWatcher.Props(watched), "fail-stop");
            system.ActorOf(CommitMetricsActor.Props(metrics), "commit-metrics");
            directory.Tell(new PeerDirectory.Attach(consensus, mempool, sync));
            mempool.Tell(new MempoolActor.Attach(consensus));
            Volatile.Write(ref running.Value, consensus);
            var admin = settings.AdminEndpoint is { } adminEndpoint ? ServeAdmin(adminEndpoint, consensus, directory) : null;
            return new ValidatorNode(settings, store, idos, system, consensus, mempool, directory, server, admin);
        }
        catch
        {
            server?.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(10));
            idos?.Dispose();
            store?.Dispose();
            system?.Terminate().Wait(TimeSpan.FromSeconds(10));
            settings.Dispose();
            throw;
        }
    }

    /// <summary>
    /// An empty node starts from its peers' newest state snapshot when f + 1 of them offer the same one (see
    /// <see cref="StateSyncActor"/>), before consensus starts; otherwise from genesis. The peer directory routes the
    /// answers to the state sync meanwhile, and consensus messages go nowhere until consensus runs.
    /// </summary>
    private static void SyncState(NodeSettings settings, ActorSystem system, IActorRef directory, SqliteBlockStore store, Storage.Snapshots.SnapshotDirectory snapshots)
    {
        var log = Logging.GetLogger(system, typeof(ValidatorNode));
        var outcome = new TaskCompletionSource<StateSyncOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        directory.Tell(new PeerDirectory.Attach(ActorRefs.Nobody, ActorRefs.Nobody, ActorRefs.Nobody));
        var history = new LeaderElection(settings.Chain.Validators, settings.Chain.LeaderReputation).HistoryBlocks;
        var syncer = system.ActorOf(StateSyncActor.Props(new StateSyncSetup(settings.Chain, settings.ValidatorIndex, directory, store, settings.StateStore,
            snapshots, history, outcome)), "state-sync");
        directory.Tell(new PeerDirectory.AttachStateSync(syncer));
        try
        {
            var result = outcome.Task.GetAwaiter().GetResult();
            log.Info("State sync: {0}", result.Summary);
        }
        catch (InvalidOperationException e)
        {
            throw new ConfigurationException($"{e.Message}. Empty the data folder (keep the keys) and start again.");
        }
        finally
        {
            directory.Tell(new PeerDirectory.AttachStateSync(ActorRefs.Nobody));
        }
    }

    /// <summary>A state database that cannot be opened, migrated or brought level with the blocks is a configuration error the operator must fix.</summary>
    private static IdosApplication OpenState(NodeSettings settings, SqliteBlockStore store, Storage.Snapshots.SnapshotDirectory snapshots)
    {
        try
        {
            return IdosApplication.Open(settings.StateStore, settings.Chain, store, Kwil.Auth.Secp256k1.Recovery, snapshots);
        }
        catch (Exception e) when (e is InvalidOperationException or global::System.Data.Common.DbException)
        {
            throw new ConfigurationException($"The idOS state ({settings.StateStore.Dialect}) cannot be used: {e.Message}");
        }
    }

    public Task<NodeStatus> StatusAsync(TimeSpan timeout) => Consensus.Ask<NodeStatus>(StatusQuery.Instance, timeout);

    private static RpcHttpServer ServeAdmin(System.Net.IPEndPoint endpoint, IActorRef consensus, IActorRef directory)
    {
        var service = new Admin.AdminService(consensus, directory, TimeSpan.FromSeconds(5));
        try
        {
            return RpcHttpServer.Start(endpoint, new Rpc.JsonRpc.JsonRpcDispatcher(service.Methods, 64 << 10, TimeSpan.FromSeconds(10)), 64 << 10)
                .GetAwaiter().GetResult();
        }
        catch (IOException e)
        {
            throw new ConfigurationException($"{NodeSettings.Section}.admin.listen cannot listen on {endpoint}: {e.Message}");
        }
    }

    /// <summary>
    /// The metrics listener: each scrape first copies a fresh status into the metrics, and `/health` judges one; a
    /// consensus actor that does not answer within 2 s leaves the figures as they were and the node unhealthy. Until
    /// consensus runs (<paramref name="running"/> is empty while a state sync fetches the snapshot) the figures stay at
    /// zero and the node is unhealthy for that reason.
    /// </summary>
    private static MetricsHttpServer ServeMetrics(ActorSystem system, System.Net.IPEndPoint endpoint, System.Runtime.CompilerServices.StrongBox<IActorRef?> running,
        NodeMetrics metrics)
    {
        var timeout = TimeSpan.FromSeconds(2);
        metrics.Registry.AddBeforeCollectCallback(async cancel =>
        {
            if (Volatile.Read(ref running.Value) is not { } consensus)
            {
                return;
            }

            try
            {
                var reply = await consensus.Ask<ConsensusActor.MetricsReply>(new ConsensusActor.MetricsQuery(), timeout, cancel);
                metrics.Observe(reply.Status, reply.Counters, reply.SignatureCacheHits, reply.LeaderWeights);
            }
            catch (AskTimeoutException)
            {
                // The last figures stand; `/health` says the node is not answering.
            }
        });
        async Task<HealthReport> Health(CancellationToken cancel)
        {
            if (Volatile.Read(ref running.Value) is not { } consensus)
            {
                return HealthReport.Unhealthy("starting: a state sync from the peers' snapshot is in progress, or the node is opening its state");
            }

            try
            {
                return NodeHealth.Report(await consensus.Ask<NodeStatus>(StatusQuery.Instance, timeout, cancel));
            }
            catch (AskTimeoutException)
            {
                return HealthReport.Unhealthy($"the consensus actor did not answer within {timeout.TotalSeconds} s");
            }
        }

        try
        {
            var server = MetricsHttpServer.Start(endpoint, metrics.Registry, Health).GetAwaiter().GetResult();
            Logging.GetLogger(system, typeof(ValidatorNode)).Info("Metrics at {0}metrics, health at {0}health", server.Address);
            return server;
        }
        catch (IOException e)
        {
            throw new ConfigurationException($"{NodeSettings.Section}.metrics cannot listen on {endpoint}: {e.Message}");
        }
    }

    /// <summary>Leaves the cluster and stops the actors before the block store they write to is closed.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_metrics is not null)
        {
            await _metrics.DisposeAsync();
        }

        if (_admin is not null)
        {
            await _admin.DisposeAsync();
        }

        await HandshakeFailureGuard.Stop(System, CoordinatedShutdown.ClusterLeavingReason.Instance);
        _idos?.Dispose();
        _store.Dispose();
        _settings.Dispose();
    }
}
