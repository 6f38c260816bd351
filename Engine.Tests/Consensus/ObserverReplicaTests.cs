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
        var observerSent = new List<ReplicaEffect>();
        var mesh = new ReplicaMesh(replicas, _t.Chain, Now)
        {
            Observe = (from, effect) =>
            {
                if (from == Observer && effect is Broadcast or SendToValidator or PersistSafetyState)
                {
                    observerSent.Add(effect);
                }
            },
        };
        var commits = mesh.Commits;

        mesh.Start(TestChain.Tx);
        mesh.Run(3_000);

        // Rounds the observer times out in still pass without a word from it.
        for (var round = 1; round < 5; round++)
        {
            mesh.Apply(Observer, replicas[Observer].OnTimer(replicas[Observer].CurrentRound, Now + (round * 60_000)));
        }

        Assert.True(commits[Observer].Count >= 10, $"the observer committed only {commits[Observer].Count} blocks");
        Assert.Equal(commits[0].Take(commits[Observer].Count).Select(c => (c.Block.Id, c.App)), commits[Observer].Select(c => (c.Block.Id, c.App)));
        Assert.DoesNotContain(observerSent, e => e is PersistSafetyState or SendToValidator { Message: Vote or TimeoutVote or Proposal }
            || e is Broadcast { Message: Vote or TimeoutVote or Proposal });
        Assert.Equal(0, replicas[Observer].SafetyState.LastVotedRound);
    }
}
