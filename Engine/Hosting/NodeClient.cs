using Akka.Actor;
using Akka.Configuration;
using IdOS.Akka.Engine.Actors;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Network;

namespace IdOS.Akka.Engine.Hosting;

/// <summary>
/// A client of validator nodes over Akka.Remote: it submits transactions to a node's mempool and asks its status and
/// state, speaking the same bound codec (JSON stays refused here too). localnet and the process tests use one that
/// never joins the cluster (<see cref="Create"/>); the RPC system asks through its own cluster member (<see cref="On"/>).
/// </summary>
public sealed class NodeClient : IAsyncDisposable
{
    private readonly ActorSystem _system;
    private readonly bool _ownsSystem;

    private NodeClient(ActorSystem system, bool ownsSystem)
    {
        _system = system;
        _ownsSystem = ownsSystem;
    }

    /// <summary>A client with an ActorSystem of its own, which connects as <paramref name="security"/> says: as a pinned RPC member (<see cref="LocalNetwork.MemberTransport"/>), or without TLS.</summary>
    public static NodeClient Create(TransportSecurity security, string host = "127.0.0.1")
    {
        ArgumentNullException.ThrowIfNull(security);
        var config = ConfigurationFactory.ParseString($$"""
            akka.actor.provider = remote
            akka.remote.dot-netty.tcp.hostname = "{{host}}"
            akka.remote.dot-netty.tcp.port = 0
            akka.loglevel = ERROR
            akka.log-dead-letters = off
            """).WithFallback(NodeConfig.Defaults);
        return new NodeClient(security.CreateSystem("idos-client", config), ownsSystem: true);
    }

    /// <summary>A client that asks through <paramref name="system"/>, which stays its owner's to stop.</summary>
    public static NodeClient On(ActorSystem system) => new(system, ownsSystem: false);

    public static Address NodeAddress(string host, int port, TransportSecurity security)
    {
        ArgumentNullException.ThrowIfNull(security);
        return new Address(security.Protocol(Config.Empty), ValidatorNode.SystemName, host, port);
    }

    public Task<NodeStatus> Status(Address node, TimeSpan timeout) =>
        Select(node, ConsensusActor.Name).Ask<NodeStatus>(StatusQuery.Instance, timeout);

    public Task<SubmitResults> Submit(Address node, IReadOnlyList<byte[]> transactions, TimeSpan timeout) =>
        Select(node, MempoolActor.Name).Ask<SubmitResults>(new SubmitTransactions(transactions), timeout);

    public Task<TransactionResults> Results(Address node, IReadOnlyList<Hash32> transactionHashes, TimeSpan timeout, bool includeTransactions = false) =>
        Select(node, QueryActor.Name).Ask<TransactionResults>(new TransactionResultsQuery(transactionHashes, includeTransactions), timeout);

    public Task<AccountAnswer> Account(Address node, byte[] identifier, string keyType, TimeSpan timeout) =>
        Select(node, QueryActor.Name).Ask<AccountAnswer>(new AccountQuery(identifier, keyType), timeout);

    public Task<ReadBatchAnswer> Read(Address node, ReadBatchQuery batch, TimeSpan timeout) =>
        Select(node, QueryActor.Name).Ask<ReadBatchAnswer>(batch, timeout);

    public Task<AppHashAnswer> AppHash(Address node, long height, TimeSpan timeout) =>
        Select(node, QueryActor.Name).Ask<AppHashAnswer>(new AppHashQuery(height), timeout);

    /// <summary>The system this client asks through, for actors of its own (the cluster benchmark's clients).</summary>
    public ActorSystem System => _system;

    public async ValueTask DisposeAsync()
    {
        if (_ownsSystem)
        {
            await _system.Terminate();
        }
    }

    private ActorSelection Select(Address node, string actor) => _system.ActorSelection(new RootActorPath(node) / "user" / actor);
}
