using IdOS.Akka.Engine.Consensus;

namespace IdOS.Akka.Engine.Simulation;

/// <summary>
/// The attack the lock check exists for, played by an equivocating leader that leads three rounds in a row.
/// It holds a QC for Y, whose parent X is from the round before, so showing that QC commits X. It shows it to one
/// correct validator only (the target), and much later. The others time out in Y's round still locked on X; the
/// attacker forms the TC with them and proposes W, a sibling of X extending X's parent with X's own (older) QC.
/// A correct validator refuses W, because its QC is below the TC's highest QC round; one without the lock check
/// votes for it, W is certified and committed two rounds later by everyone but the target, and then the target
/// commits X at the same height. While the attack runs, the attacker's own replica stays silent, since its
/// timeouts would carry the QC for Y.
/// </summary>
internal sealed class LockAttacker(IAdversaryWorld world, Coalition coalition)
{
    private readonly IAdversaryWorld _world = world;
    private readonly Coalition _coalition = coalition;
    private LockAttack? _lockAttack;

    /// <summary>Starts the attack when the attacker is about to propose with a QC that would commit, and leads the next two rounds.</summary>
    public bool TryStart(SimInstance attacker, Proposal proposal)
    {
        var header = proposal.Block.Header;
        var round = proposal.Round;
        if (_lockAttack is not null
            || header.Justify.Round != round - 1
            || attacker.Replica!.Leaders.LeaderOf(round + 1) != attacker.Validator
            || attacker.Replica!.Leaders.LeaderOf(round + 2) != attacker.Validator
            || !_coalition.Blocks.TryGetValue(header.Justify.BlockId, out var y)
            || !_coalition.Blocks.TryGetValue(y.ParentId, out var x)
            || x.Round + 1 != y.Round
            || x.Header.Justify.Round == 0)
        {
            return false;
        }

        var correct = _world.Instances.Where(i => i.Role == NodeRole.Correct && i.Replica is not null).ToList();
        if (correct.Count < 2)
        {
            return false;
        }

        var target = _world.Random.Pick(correct);
        _lockAttack = new LockAttack(attacker, target, [.. _world.Instances.Where(i => i.Id != attacker.Id && i.Id != target.Id)],
            x, y, proposal, _world.Now);
        _world.Trace($"{attacker} starts the lock attack: hides the QC for {y} (which commits {x}) from all but {target}");
        return true;
    }

    /// <summary>While the attack runs, the attacker sends only what the attack sends.</summary>
    public bool Silences(SimInstance instance)
    {
        if (_lockAttack is not { } attack || attack.Attacker.Id != instance.Id)
        {
            return false;
        }

        if (_world.Now - attack.StartedAt > 20 * _world.Config.Pacemaker.BaseTimeoutMs)
        {
            _world.Trace($"{instance} gives up the lock attack in phase {attack.Phase}");
            FinishLockAttack(attack);
            return false;
        }

        return true;
    }

    public void Observe(ConsensusMessage message)
    {
        if (_lockAttack is not { } attack)
        {
            return;
        }

        switch (message)
        {
            case TimeoutVote timeout when attack.Phase == LockAttackPhase.CollectTimeouts
                && timeout.Round == attack.Y.Round
                && timeout.HighQc.Round < attack.Y.Round
                && attack.Group.Any(i => i.Validator == timeout.Voter && i.Validator != attack.Attacker.Validator)
                && _world.Verifier.Verify(_world.Chain.Validators[timeout.Voter], _world.Chain.Domain.Timeout(timeout.Round, timeout.HighQc.Round), timeout.Signature):
                attack.Timeouts[timeout.Voter] = timeout;
                if (attack.Timeouts.Count + 1 >= _world.Chain.Validators.Quorum)
                {
                    ProposeSibling(attack);
                }

                break;
            case Vote vote when attack.Phase == LockAttackPhase.CertifySibling && attack.Sibling is { } w && _coalition.Qcs
                .GetValueOrDefault(vote.Round)?.GetValueOrDefault(w.Id) is { } qcW:
                attack.Child = ProposeOnTop(attack, qcW, w);
                attack.Phase = LockAttackPhase.CertifyChild;
                break;
            case Vote vote when attack.Phase == LockAttackPhase.CertifyChild && attack.Child is { } v && _coalition.Qcs
                .GetValueOrDefault(vote.Round)?.GetValueOrDefault(v.Id) is { } qcV:
                ProposeOnTop(attack, qcV, v);
                _world.Trace($"{attack.Attacker} lets {attack.Target} see the QC for {attack.Y}");
                _world.Network.Send(attack.Attacker.Id, attack.Target.Id, ConsensusCodec.Encode(attack.HeldProposal), attack.HeldProposal.Round, 50);
                FinishLockAttack(attack);
                break;
            default:
                break;
        }
    }

    /// <summary>W: X's sibling, justified by X's own QC and the TC for Y's round, whose highest QC is X's.</summary>
    private void ProposeSibling(LockAttack attack)
    {
        var attacker = attack.Attacker;
        var own = new TimeoutVote(attack.Y.Round, attack.Y.Header.Justify, attacker.Validator,
            attacker.Key.Sign(_world.Chain.Domain.Timeout(attack.Y.Round, attack.Y.Header.Justify.Round)));
        var timeouts = attack.Timeouts.Values.Append(own).OrderBy(t => t.Voter).Take(_world.Chain.Validators.Quorum).ToList();
        var tc = new TimeoutCertificate(attack.Y.Round, SignerBitmap.Create(_world.Chain.Validators.Count, timeouts.Select(t => t.Voter)),
            [.. timeouts.Select(t => t.HighQc.Round)], [.. timeouts.Select(t => t.Signature)]);
        var x = attack.X;
        var w = Block.Create(attack.Y.Round + 1, x.Height, x.Header.Justify, attacker.Validator, Math.Max(_world.LocalTime(attacker), x.Header.Timestamp),
            [], x.Header.ExecutedHeight, x.Header.ExecutedAppHash, epoch: x.Header.Epoch, setHash: x.Header.SetHash);
        attack.Sibling = w;
        attack.Phase = LockAttackPhase.CertifySibling;
        _world.Trace($"{attacker} proposes {w} beside {x}, with a TC for round {tc.Round} whose highest QC is round {tc.MaxHighQcRound}");
        var proposal = new Proposal(w, attacker.Key.Sign(_world.Chain.Domain.Proposal(w.Id)), tc);
        _coalition.RememberProposal(proposal);
        _world.Network.SendToAll(attacker, proposal, attack.Group);
        _coalition.Observe(_coalition.SignVote(attacker, w.Id, w.Round));
    }

    private Block ProposeOnTop(LockAttack attack, QuorumCertificate qc, Block parent)
    {
        var attacker = attack.Attacker;
        var block = Block.Create(qc.Round + 1, parent.Height + 1, qc, attacker.Validator, Math.Max(_world.LocalTime(attacker), parent.Header.Timestamp + 1),
            [], parent.Header.ExecutedHeight, parent.Header.ExecutedAppHash, epoch: _world.Chain.Epoch, setHash: _world.Chain.Validators.Hash);
        var proposal = new Proposal(block, attacker.Key.Sign(_world.Chain.Domain.Proposal(block.Id)), null);
        _coalition.RememberProposal(proposal);
        _world.Network.SendToAll(attacker, proposal, attack.Group);
        _coalition.Observe(_coalition.SignVote(attacker, block.Id, block.Round));
        return block;
    }

    private void FinishLockAttack(LockAttack attack)
    {
        attack.Phase = LockAttackPhase.Done;
        _lockAttack = null;
    }

    private enum LockAttackPhase
    {
        CollectTimeouts,
        CertifySibling,
        CertifyChild,
        Done,
    }

    private sealed class LockAttack(SimInstance attacker, SimInstance target, List<SimInstance> group, Block x, Block y, Proposal held, long startedAt)
    {
        public SimInstance Attacker { get; } = attacker;

        public SimInstance Target { get; } = target;

        public List<SimInstance> Group { get; } = group;

        public Block X { get; } = x;

        public Block Y { get; } = y;

        /// <summary>The attacker's proposal carrying the QC for Y; only the target gets it, at the end.</summary>
        public Proposal HeldProposal { get; } = held;

        public long StartedAt { get; } = startedAt;

        public LockAttackPhase Phase { get; set; } = LockAttackPhase.CollectTimeouts;

        public Dictionary<int, TimeoutVote> Timeouts { get; } = [];

        public Block? Sibling { get; set; }

        public Block? Child { get; set; }
    }
}
