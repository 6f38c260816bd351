using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Configuration;
using IdOS.Akka.Engine.Actors;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Network;
using IdOS.Akka.Engine.Storage;

namespace IdOS.Akka.Engine.Hosting;

/// <summary>
/// Everything a validator node needs before its ActorSystem starts, read from its layered HOCON and checked at once,
/// so that a bad configuration stops the node with one message naming the setting instead of a failure later.
/// </summary>
public sealed class NodeSettings : IDisposable
{
    public const string Section = "idos.node";
    public const string StateFileName = "state.db";

    private NodeSettings(ChainParameters chain, int validatorIndex, Ed25519PrivateKey key, string dataDirectory,
        IReadOnlyList<Address> seedNodes, ConsensusSettings consensus, ApplicationKind application, StateStoreOptions stateStore,
        Actors.RetentionSettings retention, TransportSecurity transport)
    {
        Transport = transport;
        Retention = retention;
        Application = application;
        StateStore = stateStore;
        Chain = chain;
        ValidatorIndex = validatorIndex;
        Key = key;
        DataDirectory = dataDirectory;
        SeedNodes = seedNodes;
        Consensus = consensus;
    }

    public ChainParameters Chain { get; }

    public int ValidatorIndex { get; }

    public Ed25519PrivateKey Key { get; }

    public string DataDirectory { get; }

    /// <summary>The seed nodes, with the scheme this node's transport speaks.</summary>
    public IReadOnlyList<Address> SeedNodes { get; }

    /// <summary>Who may talk to this node over Akka.Remote: mutual TLS with the pins of genesis and the RPC members, unless insecure.</summary>
    public TransportSecurity Transport { get; }

    /// <summary>What each peer validator's messages and block requests may cost this node (idos.node.peer-limits).</summary>
    public PeerLimits PeerLimits { get; private init; } = PeerLimits.Default;

    /// <summary>
    /// How long a validator greeted all along may send nothing, on connections that still carry frames, before they are
    /// closed and dialled afresh (idos.node.close-silent-links-after); null: never.
    /// </summary>
    public TimeSpan? CloseSilentLinksAfter { get; private init; } = PeerDirectorySetup.DefaultCloseSilentLinksAfter;

    /// <summary>The RPC members its operator lists (idos.node.rpc-members), by pin: the only remote senders its query actor answers.</summary>
    public IReadOnlyDictionary<TlsPin, string> RpcMembers { get; private init; } = new Dictionary<TlsPin, string>();

    public ConsensusSettings Consensus { get; }

    public ApplicationKind Application { get; }

    public Actors.RetentionSettings Retention { get; }

    /// <summary>Whether a node with an empty data folder starts from its peers' newest state snapshot (idos.node.snapshot.sync-on-start).</summary>
    public bool StateSync { get; private init; } = true;

    /// <summary>How many of the newest state snapshots the node keeps in its data folder (idos.node.snapshot.keep).</summary>
    public int SnapshotsKept { get; private init; } = 2;

    /// <summary>Where the idOS state lives; SQLite in the data folder unless a PostgreSQL connection string is set.</summary>
    public StateStoreOptions StateStore { get; }

    /// <summary>Where the metrics and health listener binds (idos.node.metrics); null when it is off.</summary>
    public System.Net.IPEndPoint? MetricsEndpoint { get; private init; }

    /// <summary>Where the admin JSON-RPC listens (idos.node.admin.listen, loopback only); null when it is off.</summary>
    public System.Net.IPEndPoint? AdminEndpoint { get; private init; }

    /// <summary>How far behind the network's head the node still reports itself healthy (idos.node.health.max-blocks-behind).</summary>
    public Observability.NodeHealth Health { get; private init; } = new(Observability.NodeHealth.DefaultMaxBlocksBehind);

    /// <summary>
    /// The chain and the state database a node's configuration names, and nothing else: for tools that read a running
    /// node's state beside it, where the full settings would refuse the port the node holds.
    /// </summary>
    public static (ChainParameters Chain, StateStoreOptions State) ChainAndState(Config config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var chain = GenesisFile.Read(RequiredPath(config, "genesis-file"), ConsensusSettings.FromConfig(config).Limits);
        return (chain, ReadStateStore(config, RequiredPath(config, "data-directory")));
    }

    /// <summary>Reads and checks the settings; throws <see cref="ConfigurationException"/> or <see cref="NodeFileException"/> with the reason.</summary>
    public static NodeSettings Load(Config config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var consensus = ConsensusSettings.FromConfig(config);
        var chain = GenesisFile.Read(RequiredPath(config, "genesis-file"), consensus.Limits);
        var dataDirectory = RequiredPath(config, "data-directory");
        try
        {
            Directory.CreateDirectory(dataDirectory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationException($"{Section}.data-directory {dataDirectory} cannot be created: {e.Message}");
        }

        var application = ReadApplication(config);
        var stateStore = ReadStateStore(config, dataDirectory);
        var retention = ReadRetention(config);
        var history = new Consensus.LeaderElection(chain.Validators, chain.LeaderReputation).HistoryBlocks;
        if (retention.Blocks < history)
        {
            throw new ConfigurationException(
                $"{Section}.retention.blocks is {retention.Blocks}; leader election reads the last {history} committed blocks, so keep at least that many blocks' bodies.");
        }

        var seedList = ReadSeedNodes(config);
        CheckMinimumMembers(config, chain.Validators);
        CheckPort(config);

        var keyFile = RequiredPath(config, "key-file");
        var key = KeyFiles.ReadPrivate(keyFile);
        var index = Enumerable.Range(0, chain.Validators.Count).FirstOrDefault(i => chain.Validators[i].Equals(key.PublicKey), -1);
        if (index < 0 && !config.GetBoolean($"{Section}.joined-by-governance", false))
        {
            key.Dispose();
            throw new ConfigurationException(
                $"The key in {keyFile} ({key.PublicKey}) is not a validator of chain {chain.ChainId}; check {Section}.key-file and {Section}.genesis-file, " +
                $"or set {Section}.joined-by-governance = on for a validator that joins (or joined) the set through `validator join`.");
        }

        TransportSecurity transport;
        try
        {
            transport = TransportSettings.ForValidator(config, keyFile, GenesisFile.ReadValidators(RequiredPath(config, "genesis-file")), index);
        }
        catch
        {
            key.Dispose();
            throw;
        }

        var seeds = seedList.Select(seed => transport.Dialed(seed, config)).ToList();
        return new NodeSettings(chain, index, key, dataDirectory, seeds, consensus, application, stateStore, retention, transport)
        {
            RpcMembers = TransportSettings.RpcMembers(config, $"{Section}.rpc-members"),
            PeerLimits = ReadPeerLimits(config),
            CloseSilentLinksAfter = ReadCloseSilentLinksAfter(config),
            SnapshotsKept = ReadSnapshotsKept(config),
            StateSync = config.GetBoolean($"{Section}.snapshot.sync-on-start", true),
            MetricsEndpoint = ReadMetricsEndpoint(config),
            AdminEndpoint = ReadAdminEndpoint(config),
            Health = new Observability.NodeHealth(ReadAtLeast(config, "health.max-blocks-behind", Observability.NodeHealth.DefaultMaxBlocksBehind, 1)),
        };
    }

    private static System.Net.IPEndPoint? ReadMetricsEndpoint(Config config)
    {
        if (!config.GetBoolean($"{Section}.metrics.enabled", true))
        {
            return null;
        }

        var host = config.GetString($"{Section}.metrics.host", "127.0.0.1");
        var port = config.GetInt($"{Section}.metrics.port", 26660);
        if (!System.Net.IPAddress.TryParse(host, out var address))
        {
            throw new ConfigurationException($"{Section}.metrics.host is \"{host}\"; it is an IP address to bind (127.0.0.1 keeps the metrics on this machine).");
        }

        return port is >= 0 and <= 65535
            ? new System.Net.IPEndPoint(address, port)
            : throw new ConfigurationException($"{Section}.metrics.port is {port}; it is 0 (any free port) to 65535.");
    }

    private static System.Net.IPEndPoint? ReadAdminEndpoint(Config config)
    {
        var text = config.GetString($"{Section}.admin.listen", "");
        if (text.Length == 0)
        {
            return null;
        }

        if (!System.Net.IPEndPoint.TryParse(text, out var endpoint))
        {
            throw new ConfigurationException($"{Section}.admin.listen \"{text}\" is not an IP address and port such as 127.0.0.1:26680 (empty: off).");
        }

        // Anyone who reaches it learns the node's peers and state; an operator reaches it over SSH.
        return System.Net.IPAddress.IsLoopback(endpoint.Address)
            ? endpoint
            : throw new ConfigurationException($"{Section}.admin.listen is {text}; the admin service listens on a loopback address only (127.0.0.1 or ::1).");
    }

    private static int ReadAtLeast(Config config, string key, int fallback, int minimum)
    {
        var value = config.GetInt($"{Section}.{key}", fallback);
        return value >= minimum ? value : throw new ConfigurationException($"{Section}.{key} is {value}; it is at least {minimum}.");
    }

    public void Dispose() => Key.Dispose();

    private static string RequiredPath(Config config, string key)
    {
        var value = config.GetString($"{Section}.{key}", null);
        return string.IsNullOrWhiteSpace(value) ? throw new ConfigurationException($"{Section}.{key} is not set.") : value;
    }

    private static ApplicationKind ReadApplication(Config config) => config.GetString($"{Section}.application", "idos") switch
    {
        "idos" => ApplicationKind.Idos,
        "opaque" => ApplicationKind.Opaque,
        "noop" => ApplicationKind.Noop,
        var other => throw new ConfigurationException($"{Section}.application is \"{other}\"; it is idos (the default), or opaque or noop (benchmarks)."),
    };

    private static Actors.RetentionSettings ReadRetention(Config config)
    {
        var blocks = config.GetLong($"{Section}.retention.blocks", 100_000);
        var interval = config.GetTimeSpan($"{Section}.retention.interval", TimeSpan.FromSeconds(10));
        if (blocks < Actors.RetentionSettings.MinimumBlocks)
        {
            throw new ConfigurationException($"{Section}.retention.blocks is {blocks}; keep at least {Actors.RetentionSettings.MinimumBlocks} blocks' bodies.");
        }

        return interval > TimeSpan.Zero
            ? new Actors.RetentionSettings(blocks, interval)
            : throw new ConfigurationException($"{Section}.retention.interval must be positive.");
    }

    private static int ReadSnapshotsKept(Config config)
    {
        var keep = config.GetInt($"{Section}.snapshot.keep", 2);
        return keep >= 1 ? keep
            : throw new ConfigurationException($"{Section}.snapshot.keep is {keep}; keep at least 1 snapshot, the one new nodes sync from.");
    }

    private static TimeSpan? ReadCloseSilentLinksAfter(Config config)
    {
        const string path = $"{Section}.close-silent-links-after";
        var after = config.GetTimeSpan(path, PeerDirectorySetup.DefaultCloseSilentLinksAfter, allowInfinite: false);
        return after == TimeSpan.Zero ? null
            : after >= TimeSpan.FromSeconds(11) ? after
            : throw new ConfigurationException($"{path} is {after.TotalSeconds} s; 0 turns it off, else at least 11 s (a live peer greets every 2 s, Akka's heartbeats come every 4 s).");
    }

    private static PeerLimits ReadPeerLimits(Config config)
    {
        const string path = $"{Section}.peer-limits";
        var fallback = PeerLimits.Default;
        var limits = new PeerLimits(
            config.GetDouble($"{path}.messages-per-second", fallback.MessagesPerSecond),
            config.GetInt($"{path}.messages-burst", fallback.MessagesBurst),
            config.GetByteSize($"{path}.sync-bytes-per-second") ?? (long)fallback.SyncBytesPerSecond,
            config.GetByteSize($"{path}.sync-bytes-burst") ?? fallback.SyncBytesBurst);
        return limits.MessagesPerSecond > 0 && limits.MessagesBurst >= 1 && limits.SyncBytesPerSecond > 0 && limits.SyncBytesBurst > 0
            ? limits
            : throw new ConfigurationException($"{path}: every rate and burst must be above 0.");
    }

    private static StateStoreOptions ReadStateStore(Config config, string dataDirectory)
    {
        var provider = config.GetString($"{Section}.state-store.provider", "sqlite");
        var connectionString = config.GetString($"{Section}.state-store.connection-string", "");
        return provider switch
        {
            "sqlite" when connectionString.Length == 0 => StateStoreOptions.Sqlite(Path.Combine(dataDirectory, StateFileName)),
            "sqlite" => throw new ConfigurationException($"{Section}.state-store.connection-string is for postgresql; the SQLite state is always {StateFileName} in the data directory."),
            "postgresql" when connectionString.Length > 0 => StateStoreOptions.PostgreSql(connectionString),
            "postgresql" => throw new ConfigurationException($"{Section}.state-store.provider is postgresql but {Section}.state-store.connection-string is not set."),
            _ => throw new ConfigurationException($"{Section}.state-store.provider is \"{provider}\"; it is sqlite (the default) or postgresql."),
        };
    }

    private static List<Address> ReadSeedNodes(Config config)
    {
        var seeds = config.HasPath("akka.cluster.seed-nodes") ? config.GetStringList("akka.cluster.seed-nodes") : [];
        if (seeds.Count == 0)
        {
            throw new ConfigurationException("akka.cluster.seed-nodes is empty: list the validators' addresses, in the same order on every node.");
        }

        return [.. seeds.Select(seed =>
        {
            try
            {
                return Address.Parse(seed);
            }
            catch (Exception e) when (e is UriFormatException or ArgumentException or FormatException)
            {
                throw new ConfigurationException($"akka.cluster.seed-nodes holds \"{seed}\", which is not an actor system address: {e.Message}");
            }
        })];
    }

    /// <summary>More than 2f + 1 would let f crashed validators hold every other one back from becoming a member.</summary>
    private static void CheckMinimumMembers(Config config, ValidatorSet validators)
    {
        var minimum = config.GetInt("akka.cluster.min-nr-of-members", 1);
        var limit = (2 * validators.MaxFaulty) + 1;
        if (minimum > limit)
        {
            throw new ConfigurationException($"akka.cluster.min-nr-of-members is {minimum}; with {validators.Count} validators it may be at most 2f + 1 = {limit}.");
        }
    }

    private static void CheckPort(Config config)
    {
        var host = config.GetString("akka.remote.dot-netty.tcp.hostname", "0.0.0.0");
        var port = config.GetInt("akka.remote.dot-netty.tcp.port", 0);
        if (port is < 1 or > 65535)
        {
            throw new ConfigurationException($"akka.remote.dot-netty.tcp.port is {port}; a validator listens on a fixed port from 1 to 65535.");
        }

        var address = string.IsNullOrEmpty(host) || host == "0.0.0.0" ? IPAddress.Any
            : IPAddress.TryParse(host, out var parsed) ? parsed
            : throw new ConfigurationException($"akka.remote.dot-netty.tcp.hostname \"{host}\" must be an IP address to bind.");
        try
        {
            using var probe = new TcpListener(address, port);
            probe.Start();
            probe.Stop();
        }
        catch (SocketException e)
        {
            throw new ConfigurationException($"akka.remote.dot-netty.tcp.port {port} on {host} cannot be bound: {e.Message}");
        }
    }
}

/// <summary>The application a node runs behind consensus.</summary>
public enum ApplicationKind
{
    /// <summary>The idOS state machine: the default.</summary>
    Idos,

    /// <summary>Signed opaque payloads that are only hash-chained: for benchmarks of consensus alone.</summary>
    Opaque,

    /// <summary>Unsigned commands, nothing executed: libhotstuff's benchmark mode, for the cluster benchmark.</summary>
    Noop,
}
