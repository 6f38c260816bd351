using IdOS.Akka.Engine.Application;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Simulation;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Consensus;

/// <summary>
/// A crash-point sweep in the manner of CometBFT's fail points: four replicas exchange messages in order, and
/// validator 0 crashes after exactly its k-th effect, for every k along twelve heights, losing everything it had not
/// carried out. Restarted from what it persisted, it must never sign two different messages for one round, and the
/// chain must go on with every replica committing the same blocks.
/// </summary>
[Trait("Category", "Unit")]
public sealed class CrashPointTests
{
    private const long Now = TestChain.GenesisTime + 10_000;
    private readonly TestChain _t = new();

    [Fact]
    public void A_crash_after_any_effect_of_validator_0_never_makes_it_sign_twice_and_the_chain_goes_on()
    {
        var effects = Run(crashAfter: int.MaxValue, SafetyWrites.All).EffectsOf0;
        Assert.True(effects > 60, $"only {effects} effects to sweep");

        for (var crashAfter = 0; crashAfter < effects; crashAfter++)
        {
            var outcome = Run(crashAfter, SafetyWrites.All);

            Assert.True(outcome.Crashed, $"no crash after effect {crashAfter}");
            Assert.Null(outcome.DoubleSign);
        }
    }

    /// <summary>
    /// Positive control: a validator whose safety state stops reaching the disk after its first write (an fsync that
    /// lies) restarts from a stale journal and is caught signing twice.
    /// </summary>
    [Fact]
    public void With_a_stale_safety_state_the_sweep_catches_a_double_signature()
    {
        var effects = Run(crashAfter: int.MaxValue, SafetyWrites.All).EffectsOf0;

        var caught = Enumerable.Range(0, effects).Select(k => Run(k, SafetyWrites.FirstOnly).DoubleSign).FirstOrDefault(d => d is not null);

        Assert.NotNull(caught);
    }

    /// <summary>
    /// With nothing journaled at all (a data folder emptied) the validator knows it knows nothing, and the empty-journal
    /// guard keeps it from signing twice after a crash at any point.
    /// </summary>
    [Fact]
    public void With_no_safety_state_at_all_the_empty_journal_guard_keeps_it_from_signing_twice()
    {
        var effects = Run(crashAfter: int.MaxValue, SafetyWrites.All).EffectsOf0;

        for (var crashAfter = 0; crashAfter < effects; crashAfter++)
        {
            Assert.Null(Run(crashAfter, SafetyWrites.None).DoubleSign);
        }
    }

    private enum SafetyWrites
    {
        All,
        FirstOnly,
        None,
    }

    private (int EffectsOf0, bool Crashed, string? DoubleSign) Run(int crashAfter, SafetyWrites writesOf0)
    {
        var disks = Enumerable.Range(0, 4).Select(_ => new Disk()).ToArray();
        var replicas = Enumerable.Range(0, 4).Select(i => Boot(i, disks[i])).ToArray();
        var signedBy0 = new Dictionary<(string Kind, long Round), byte[]>();
        var inbox = new Queue<(int To, int From, ConsensusMessage Message)>();

        // The executors: a block committed by a replica that crashed since was executed by its successor's boot.
        var toExecute = new Queue<(int Who, Replica By, Block Block)>();
        var effectsOf0 = 0;
        var crashed = false;
        string? doubleSign = null;

        void Run(int who, IReadOnlyList<ReplicaEffect> effects)
        {
            foreach (var effect in effects)
            {
                if (who == 0 && !crashed && effectsOf0++ == crashAfter)
                {
                    crashed = true;
                    replicas[0] = Boot(0, disks[0]);
                    Run(0, replicas[0].Start(Now));
                    return;
                }

                switch (effect)
                {
                    case PersistSafetyState persist when who != 0 || writesOf0 == SafetyWrites.All || (writesOf0 == SafetyWrites.FirstOnly && disks[0].Safety is null):
                        disks[who].Safety = ConsensusCodec.EncodeSafetyState(persist.State);
                        break;
                    case PersistBlock keep:
                        disks[who].Kept[keep.Block.Id] = keep.Block;
                        break;
                    case Broadcast broadcast:
                        Record(who, broadcast.Message);
                        foreach (var to in Enumerable.Range(0, 4).Where(i => i != who))
                        {
                            inbox.Enqueue((to, who, broadcast.Message));
                        }

                        break;
                    case SendToValidator send:
                        Record(who, send.Message);
                        inbox.Enqueue((send.Validator, who, send.Message));
                        break;
                    case Reply reply:
                        inbox.Enqueue((reply.Peer.Value, who, reply.Message));
                        break;
                    case BlockCommitted committed:
                        toExecute.Enqueue((who, replicas[who], committed.Block));
                        break;
                    default:
                        break;
                }
            }
        }

        void Record(int who, ConsensusMessage message)
        {
            var key = message switch
            {
                Vote v when who == 0 => ("vote", v.Round),
                TimeoutVote t when who == 0 => ("timeout", t.Round),
                Proposal p when who == 0 => ("proposal", p.Round),
                _ => (null!, 0L),
            };
            if (key.Item1 is null)
            {
                return;
            }

            var bytes = ConsensusCodec.Encode(message);
            if (signedBy0.TryGetValue(key, out var earlier) && !earlier.AsSpan().SequenceEqual(bytes))
            {
                doubleSign ??= $"crash after effect {crashAfter}: validator 0 signed two different {key.Item1}s in round {key.Item2}";
            }

            signedBy0[key] = bytes;
        }

        for (var i = 0; i < 4; i++)
        {
            replicas[i].SubmitTransaction(TestChain.Tx(i));
            Run(i, replicas[i].Start(Now));
        }

        long Committed() => disks.Min(d => d.Store.Height);
        for (var step = 0; step < 10_000 && Committed() < 12; step++)
        {
            if (inbox.TryDequeue(out var message))
            {
                Run(message.To, replicas[message.To].OnMessage(new PeerId(message.From), message.Message, Now));
            }
            else if (toExecute.TryDequeue(out var execution))
            {
                if (replicas[execution.Who] == execution.By)
                {
                    var appHash = disks[execution.Who].App!.Execute(execution.Block);
                    Run(execution.Who, execution.By.OnExecuted(execution.Block.Height, appHash, Now));
                }
            }
            else
            {
                // Quiet network: every round timer fires, as it would after its timeout.
                for (var i = 0; i < 4; i++)
                {
                    Run(i, replicas[i].OnTimer(replicas[i].CurrentRound, Now));
                }
            }
        }

        // The stores, not the commit effects: a crash can fall after a block was stored and before its effect.
        Assert.True(Committed() >= 12, $"crash after effect {crashAfter}: commits stalled at {string.Join("/", disks.Select(d => d.Store.Height))}");
        for (var height = 1; height <= Committed(); height++)
        {
            Assert.Single(disks.Select(d => d.Store.GetByHeight(height)!.Id).Distinct());
        }

        return (effectsOf0, crashed, doubleSign);
    }

    private Replica Boot(int index, Disk disk)
    {
        var safety = SafetyState.Initial(_t.Chain);
        if (disk.Safety is { } bytes)
        {
            Assert.True(ConsensusCodec.TryDecodeSafetyState(bytes, _t.Chain.Limits, out safety, out var error), error);
        }

        var executed = disk.Store.ExecutedHeight;
        disk.App = new HashChainStateMachine(executed, executed == 0 ? _t.Chain.GenesisAppHash : disk.Store.AppHashAt(executed)!.Value);
        ExecutionCatchUp.Run(disk.App, disk.Store);
        return new Replica(_t.Chain, index, _t.Keys[index], Ed25519Verifier.Instance, disk.Store, safety, disk.Kept.Values);
    }

    private sealed class Disk
    {
        public byte[]? Safety { get; set; }

        public Dictionary<Hash32, Block> Kept { get; } = [];

        public SimBlockStore Store { get; } = new();

        /// <summary>The executor's application: not on disk, built again from the store at each boot.</summary>
        public HashChainStateMachine? App { get; set; }
    }
}
