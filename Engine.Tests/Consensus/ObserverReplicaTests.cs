using IdOS.Akka.Engine.Application;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Simulation;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Consensus;

/// <summary>A replica without a vote in its epoch (a validator that joins later, or one removed) follows the chain and signs nothing.</summary>
[Trait("Category", "Unit")]
public sealed class ObserverReplicaTests
{
    private const long Now = TestChain.GenesisTime + 10_000;
    private const int Observer = 4;
    private readonly TestChain _t = new();

    [Fact]
    public void An_observer_commits_what_the_sets_certificates_prove_and_never_proposes_votes_times_out_or_journals()
    {
        using var outsider = Ed25519PrivateKey.GenerateExportable();
        var replicas = Enumerable.Range(0, 4).Select(i => _t.Replica(i)).Append(
            new Replica(_t.Chain, ObserverRules.Index, outsider, Ed25519Verifier.Instance, new SimBlockStore(), SafetyState.Initial(_t.Chain), [])).ToArray();
        var executors = replicas.Select(_ => new HashChainStateMachine(0, _t.Chain.GenesisAppHash)).ToArray();
        var commits = replicas.Select(_ => new List<(Hash32 Block, Hash32 App)>()).ToArray();
        var observerSent = new List<ReplicaEffect>();
        var inbox = new Queue<(int To, int From, ConsensusMessage Message)>();
        void Apply(int from, IEnumerable<ReplicaEffect> effects)
        {
            foreach (var effect in effects)
            {
                if (from == Observer && effect is Broadcast or SendToValidator or PersistSafetyState)
                {
                    observerSent.Add(effect);
                }

                switch (effect)
                {
                    case Broadcast b:
                        foreach (var to in Enumerable.Range(0, replicas.Length).Where(i => i != from))
                        {
                            inbox.Enqueue((to, from, b.Message));
                        }

                        break;
                    case SendToValidator s:
                        inbox.Enqueue((s.Validator, from, s.Message));
                        break;
                    case Reply r:
                        inbox.Enqueue((r.Peer.Value, from, r.Message));
                        break;
                    case BlockCommitted c:
                        var appHash = executors[from].Execute(c.Block);
                        commits[from].Add((c.Block.Id, appHash));
                        Apply(from, replicas[from].OnExecuted(c.Block.Height, appHash, Now));
                        break;
                    case MessageRejected m:
                        Assert.Fail(m.Reason);
                        break;
                    default:
                        break;
                }
            }
        }

        for (var i = 0; i < replicas.Length; i++)
        {
            replicas[i].SubmitTransaction(TestChain.Tx(i));
            Apply(i, replicas[i].Start(Now));
        }

        for (var steps = 0; steps < 3_000 && inbox.TryDequeue(out var m); steps++)
        {
            Apply(m.To, replicas[m.To].OnMessage(new PeerId(m.From), m.Message, Now));
        }

        // Rounds the observer times out in still pass without a word from it.
        for (var round = 1; round < 5; round++)
        {
            Apply(Observer, replicas[Observer].OnTimer(replicas[Observer].CurrentRound, Now + (round * 60_000)));
        }

        Assert.True(commits[Observer].Count >= 10, $"the observer committed only {commits[Observer].Count} blocks");
        Assert.Equal(commits[0].Take(commits[Observer].Count), commits[Observer]);
        Assert.DoesNotContain(observerSent, e => e is PersistSafetyState or SendToValidator { Message: Vote or TimeoutVote or Proposal }
            || e is Broadcast { Message: Vote or TimeoutVote or Proposal });
        Assert.Equal(0, replicas[Observer].SafetyState.LastVotedRound);
    }
}
