using IdOS.Akka.Engine.Consensus;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Consensus;

/// <summary>
/// The idle chain on four replicas that deliver to each other under one virtual clock: with nothing to propose, a leader
/// waits up to the idle interval before an empty block, a transaction ends the wait at once, the chain keeps
/// committing, and every validator's round timer covers the wait.
/// </summary>
[Trait("Category", "Unit")]
public sealed class IdleChainTests
{
    private const long IdleMs = 1_000;
    private const long BaseMs = 1_000;
    private readonly TestChain _t = new();

    [Fact]
    public void An_idle_leader_waits_a_transaction_ends_the_wait_and_empty_blocks_come_once_per_interval()
    {
        var net = new Network(_t, new PacemakerPolicy(BaseMs, 16_000) { IdleIntervalMs = IdleMs });
        net.StartAll();
        net.Drain();

        // Round 1's leader has nothing to propose: it waits, and the others' timers allow for its wait and the next leader's.
        Assert.Equal(0, net.Proposals);
        var leader = _t.Chain.Validators.LeaderOf(1);
        Assert.Equal(IdleMs, net.Timers[leader]!.DelayMs);
        Assert.All(Enumerable.Range(0, 4).Where(v => v != leader), v => Assert.Equal(BaseMs + (2 * IdleMs), net.Timers[v]!.DelayMs));

        // A transaction at the waiting leader is proposed at once, and commits without any timer firing.
        net.Submit(leader, TestChain.Tx(1));
        net.Drain();
        Assert.Contains(Block.TransactionHash(TestChain.Tx(1)), net.Committed.SelectMany(b => b.TransactionHashes));
        var afterTransaction = net.Committed.Count;
        var proposals = net.Proposals;

        // Then the chain rests again: the next leader waits, and each expiry of its wait brings one empty block.
        for (var interval = 0; interval < 5; interval++)
        {
            var waiting = net.WaitingLeader() ?? throw new InvalidOperationException("no leader is waiting on the idle chain");
            Assert.Equal(IdleMs, net.Timers[waiting]!.DelayMs);
            net.Fire(waiting);
            net.Drain();
        }

        Assert.Equal(proposals + 5, net.Proposals);
        Assert.True(net.Committed.Count >= afterTransaction + 3, $"{net.Committed.Count - afterTransaction} commits after five intervals");
        Assert.All(net.Committed.Skip(afterTransaction), b => Assert.Empty(b.TransactionHashes));
        Assert.Equal(0, net.Rejections);
    }

    [Fact]
    public void Without_an_idle_interval_a_leader_proposes_at_once()
    {
        var net = new Network(_t, new PacemakerPolicy(BaseMs, 16_000));
        net.StartAll();
        net.Drain(maxSteps: 200);

        Assert.True(net.Proposals > 10, $"{net.Proposals} proposals");
    }

    /// <summary>
    /// Four replicas, an inbox, and each replica's last armed timer; time stands still unless a timer is fired. Each
    /// replica's executor reports a committed block at once.
    /// </summary>
    private sealed class Network
    {
        private readonly Replica[] _replicas;
        private readonly Engine.Application.HashChainStateMachine[] _executors;
        private readonly Queue<(int To, int From, ConsensusMessage Message)> _inbox = new();
        private readonly TestChain _t;
        private long _now = TestChain.GenesisTime + 10_000;

        public Network(TestChain t, PacemakerPolicy pacemaker)
        {
            _t = t;
            _replicas = [.. Enumerable.Range(0, 4).Select(i => t.Replica(i, options: new ReplicaOptions { Pacemaker = pacemaker }))];
            _executors = [.. Enumerable.Range(0, 4).Select(_ => new Engine.Application.HashChainStateMachine(0, t.Chain.GenesisAppHash))];
        }

        public ArmRoundTimer?[] Timers { get; } = new ArmRoundTimer?[4];

        public List<Block> Committed { get; } = [];

        public int Proposals { get; private set; }

        public int Rejections { get; private set; }

        public void StartAll()
        {
            for (var i = 0; i < 4; i++)
            {
                Apply(i, _replicas[i].Start(_now));
            }
        }

        public void Submit(int validator, byte[] transaction)
        {
            Assert.Equal(MempoolAddStatus.Added, _replicas[validator].SubmitTransaction(transaction).Status);
            Apply(validator, _replicas[validator].OnTransactionsAdded(_now));
        }

        public void Drain(int maxSteps = 10_000)
        {
            for (var steps = 0; steps < maxSteps && _inbox.TryDequeue(out var m); steps++)
            {
                _now++;
                Apply(m.To, _replicas[m.To].OnMessage(new PeerId(m.From), m.Message, _now));
            }
        }

        /// <summary>The leader of the round the replicas are in, if it armed only its idle wait.</summary>
        public int? WaitingLeader()
        {
            var round = _replicas.Max(r => r.CurrentRound);
            var leader = _t.Chain.Validators.LeaderOf(round);
            return Timers[leader] is { } timer && timer.Round == round && timer.DelayMs == IdleMs ? leader : null;
        }

        public void Fire(int validator)
        {
            var timer = Timers[validator]!;
            _now += timer.DelayMs;
            Apply(validator, _replicas[validator].OnTimer(timer.Round, _now));
        }

        private void Apply(int from, IEnumerable<ReplicaEffect> effects)
        {
            foreach (var effect in effects)
            {
                switch (effect)
                {
                    case Broadcast b:
                        Proposals += b.Message is Proposal ? 1 : 0;
                        foreach (var to in Enumerable.Range(0, 4).Where(i => i != from))
                        {
                            _inbox.Enqueue((to, from, b.Message));
                        }

                        break;
                    case SendToValidator s:
                        _inbox.Enqueue((s.Validator, from, s.Message));
                        break;
                    case ArmRoundTimer timer:
                        Timers[from] = timer;
                        break;
                    case BlockCommitted c:
                        if (from == 0)
                        {
                            Committed.Add(c.Block);
                        }

                        Apply(from, _replicas[from].OnExecuted(c.Block.Height, _executors[from].Execute(c.Block), _now));
                        break;
                    case MessageRejected:
                        Rejections++;
                        break;
                    default:
                        break;
                }
            }
        }
    }
}
