using IdOS.Akka.Engine.Application;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Consensus;

/// <summary>
/// Replicas that hand each other's messages on in the order they were sent, each executing what it commits with a
/// hash-chain state machine and reporting the app hash back; a rejected message fails the test.
/// </summary>
internal sealed class ReplicaMesh
{
    private readonly Replica[] _replicas;
    private readonly HashChainStateMachine[] _executors;
    private readonly Queue<(int To, int From, ConsensusMessage Message)> _inbox = new();

    public ReplicaMesh(Replica[] replicas, ChainParameters chain, long now)
    {
        _replicas = replicas;
        _executors = [.. replicas.Select(_ => new HashChainStateMachine(0, chain.GenesisAppHash))];
        Commits = [.. replicas.Select(_ => new List<(Block Block, Hash32 App)>())];
        Now = now;
    }

    public long Now { get; }

    /// <summary>What each replica committed, in order, with its app hash.</summary>
    public List<(Block Block, Hash32 App)>[] Commits { get; }

    /// <summary>Sees every effect a replica produced, before it is carried out.</summary>
    public Action<int, ReplicaEffect>? Observe { get; init; }

    /// <summary>Each replica takes one transaction and starts.</summary>
    public void Start(Func<int, byte[]> transaction)
    {
        for (var i = 0; i < _replicas.Length; i++)
        {
            _replicas[i].SubmitTransaction(transaction(i));
            Apply(i, _replicas[i].Start(Now));
        }
    }

    /// <summary>Delivers up to <paramref name="steps"/> messages.</summary>
    public void Run(int steps)
    {
        for (var step = 0; step < steps && _inbox.TryDequeue(out var m); step++)
        {
            Apply(m.To, _replicas[m.To].OnMessage(new PeerId(m.From), m.Message, Now));
        }
    }

    public void Apply(int from, IEnumerable<ReplicaEffect> effects)
    {
        foreach (var effect in effects)
        {
            Observe?.Invoke(from, effect);
            switch (effect)
            {
                case Broadcast b:
                    foreach (var to in Enumerable.Range(0, _replicas.Length).Where(i => i != from))
                    {
                        _inbox.Enqueue((to, from, b.Message));
                    }

                    break;
                case SendToValidator s:
                    _inbox.Enqueue((s.Validator, from, s.Message));
                    break;
                case Reply r:
                    _inbox.Enqueue((r.Peer.Value, from, r.Message));
                    break;
                case BlockCommitted c:
                    var appHash = _executors[from].Execute(c.Block);
                    Commits[from].Add((c.Block, appHash));
                    Apply(from, _replicas[from].OnExecuted(c.Block.Height, appHash, Now));
                    break;
                case MessageRejected m:
                    Assert.Fail(m.Reason);
                    break;
                default:
                    break;
            }
        }
    }
}
