using Akka.Actor;
using Akka.Configuration;
using IdOS.Akka.Engine.Actors;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Hosting;
using IdOS.Akka.Engine.Network;

namespace IdOS.Akka.Engine.Gateway;

/// <summary>
/// A client of validator nodes over Akka.Remote: it submits transactions to a node's mempool and asks its status and
/// state, speaking the same bound codec (JSON stays refused here too). localnet and the process tests use one that
/// never joins the cluster (<see cref="Create"/>); the RPC system asks through its own cluster member (<see cref="On"/>).
/// </summary>
public sealed class NodeClient : IAsyncDisposable
{
    private readonly ActorSystem _system;
    private readonly TransportSecurity _security;
    private readonly bool _ownsSystem;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Address, bool> _greeted = new();

    private NodeClient(ActorSystem system, TransportSecurity security, bool ownsSystem)
    {
        _system = system;
        _security = security;
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
        return new NodeClient(security.CreateSystem("idos-client", config), security, ownsSystem: true);
    }

    /// <summary>A client that asks through <paramref name="system"/> (made with <paramref name="security"/>), which stays its owner's to stop.</summary>
    public static NodeClient On(ActorSystem system, TransportSecurity security) => new(system, security, ownsSystem: false);

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
        Query<TransactionResults>(node, new TransactionResultsQuery(transactionHashes, includeTransactions), timeout);

    public Task<AccountAnswer> Account(Address node, byte[] identifier, string keyType, TimeSpan timeout) =>
        Query<AccountAnswer>(node, new AccountQuery(identifier, keyType), timeout);

    public Task<ReadBatchAnswer> Read(Address node, ReadBatchQuery batch, TimeSpan timeout) => Query<ReadBatchAnswer>(node, batch, timeout);

    public Task<AppHashAnswer> AppHash(Address node, long height, TimeSpan timeout) => Query<AppHashAnswer>(node, new AppHashQuery(height), timeout);

    /// <summary>One of the explorer's reads of the committed chain (<see cref="ExplorerMessageCodec"/>).</summary>
    public Task<T> Explore<T>(Address node, NodeMessage query, TimeSpan timeout)
        where T : NodeMessage => Query<T>(node, query, timeout);

    /// <summary>The system this client asks through, for actors of its own (the cluster benchmark's clients).</summary>
    public ActorSystem System => _system;

    public async ValueTask DisposeAsync()
    {
        if (_ownsSystem)
        {
            await HandshakeFailureGuard.Stop(_system, CoordinatedShutdown.ActorSystemTerminateReason.Instance);
        }
    }

    private ActorSelection Select(Address node, string actor) => _system.ActorSelection(new RootActorPath(node) / "user" / actor);

    /// <summary>
    /// Asks the node's query actor, after greeting it the first time; a refusal, as after the node restarted and forgot
    /// the greeting, is greeted and asked once more.
    /// </summary>
    private async Task<T> Query<T>(Address node, NodeMessage query, TimeSpan timeout)
    {
        await Greet(node, force: false, timeout);
        var answer = await Select(node, QueryActor.Name).Ask<object>(query, timeout);
        if (answer is QueryAccessAnswer { Allowed: false })
        {
            await Greet(node, force: true, timeout);
            answer = await Select(node, QueryActor.Name).Ask<object>(query, timeout);
        }

        return answer switch
        {
            T expected => expected,
            QueryAccessAnswer refused => throw new NodeRefusedException($"{node} refused the query: {refused.Reason}"),
            _ => throw new NodeRefusedException($"{node} answered a {typeof(T).Name} query with {answer.GetType().Name}"),
        };
    }

    /// <summary>Proves to the node's query actor that this client holds a listed RPC member's certificate (nothing to prove without TLS).</summary>
    private async Task Greet(Address node, bool force, TimeSpan timeout)
    {
        if ((!force && _greeted.ContainsKey(node))
            || _security.HelloTo(((ExtendedActorSystem)_system).Provider.DefaultAddress, node, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()) is not { } hello)
        {
            return;
        }

        var answer = await Select(node, QueryActor.Name).Ask<QueryAccessAnswer>(hello, timeout);
        if (!answer.Allowed)
        {
            throw new NodeRefusedException($"{node} refused this client's member hello: {answer.Reason}");
        }

        _greeted[node] = true;
    }
}

/// <summary>A node that answered with a refusal rather than the answer asked for; another node may still answer.</summary>
public sealed class NodeRefusedException(string message) : Exception(message)
{
    public NodeRefusedException()
        : this("the node refused")
    {
    }

    public NodeRefusedException(string message, Exception inner)
        : this(message + ": " + inner.Message)
    {
    }
}
