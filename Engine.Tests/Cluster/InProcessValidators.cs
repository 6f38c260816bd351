using Akka.Actor;
using IdOS.Akka.Engine.Application;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Hosting;
using IdOS.Akka.Engine.Network;

namespace IdOS.Akka.Engine.Tests.Cluster;

/// <summary>Validator nodes of a <see cref="TestNetwork"/>, each in its own ActorSystem inside the test process.</summary>
internal sealed class InProcessValidators : IAsyncDisposable
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(10);
    private readonly ValidatorNode?[] _nodes;
    private readonly Ed25519PrivateKey _client = Ed25519PrivateKey.GenerateExportable();
    private long _nextTransaction;

    public InProcessValidators(TestNetwork network, int start)
    {
        Network = network;
        _nodes = new ValidatorNode?[network.ConfigPaths.Count];
        for (var i = 0; i < start; i++)
        {
            Start(i);
        }
    }

    public TestNetwork Network { get; }

    public ValidatorNode Node(int validator) => _nodes[validator] ?? throw new InvalidOperationException($"validator {validator} is not running");

    public void Start(int validator, string extra = "") => _nodes[validator] = ValidatorNode.Start(Network.ConfigOf(validator, extra));

    public IEnumerable<int> Running => Enumerable.Range(0, _nodes.Length).Where(i => _nodes[i] is not null);

    /// <summary>Distinct signed 100-byte transactions, submitted to one validator; returns the mempool's verdicts.</summary>
    public async Task<SubmitResults> Submit(int validator, int count)
    {
        var transactions = Enumerable.Range(0, count)
            .Select(_ => OpaqueTransaction.CreateNumbered(_client, Interlocked.Increment(ref _nextTransaction), 100)).ToList();
        return await Node(validator).Mempool.Ask<SubmitResults>(new SubmitTransactions(transactions), AskTimeout);
    }

    public async Task<NodeStatus> Status(int validator) => await Node(validator).StatusAsync(AskTimeout);

    public async Task<IReadOnlyList<NodeStatus>> Statuses() => await Task.WhenAll(Running.Select(Status));

    public static string Describe(IEnumerable<NodeStatus> statuses) =>
        string.Join("; ", statuses.Select(s => $"v{s.Validator}: height {s.Height}, round {s.Round}, {s.CommittedTransactions} tx, {s.PeersConnected} peers"));

    public async Task Stop(int validator)
    {
        if (_nodes[validator] is { } node)
        {
            _nodes[validator] = null;
            await node.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(Enumerable.Range(0, _nodes.Length).Select(Stop));
        _client.Dispose();
    }
}
