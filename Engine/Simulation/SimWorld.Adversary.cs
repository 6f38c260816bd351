using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Simulation;

/// <summary>
/// The Byzantine validators: each runs the correct replica to keep up with the protocol, and this coalition (which
/// sees every proposal any of its members received) rewrites what they send. They hold only their own keys.
/// </summary>
public sealed partial class SimWorld
{
    private readonly Dictionary<long, List<Proposal>> _coalitionProposals = [];
    private readonly Dictionary<Hash32, Block> _coalitionBlocks = [];

    private void ObserveAsAdversary(ConsensusMessage message)
    {
        if (message is not Proposal proposal)
        {
            return;
        }

        if (!_coalitionProposals.TryGetValue(proposal.Round, out var known))
        {
            known = [];
            _coalitionProposals[proposal.Round] = known;
            foreach (var stale in _coalitionProposals.Keys.Where(r => r < proposal.Round - 20).ToList())
            {
                _coalitionProposals.Remove(stale);
            }
        }

        if (known.All(p => p.Block.Id != proposal.Block.Id))
        {
            known.Add(proposal);
            _coalitionBlocks[proposal.Block.Id] = proposal.Block;
        }
    }

    private void ExecuteAsAdversary(SimInstance instance, ReplicaEffect effect)
    {
        switch (effect)
        {
            case Broadcast { Message: Proposal proposal } when instance.Role == NodeRole.EquivocatingLeader:
                Equivocate(instance, proposal);
                break;
            case SendToValidator { Message: Vote vote } send:
                ExecuteEffect(instance, effect);
                VoteForEveryConflict(instance, vote, send.Validator);
                if (instance.Role == NodeRole.RogueVoter)
                {
                    SendRogueVotes(instance, vote, send.Validator);
                }

                break;
            case Broadcast { Message: TimeoutVote timeout } when instance.Role == NodeRole.RogueVoter:
                ExecuteEffect(instance, effect);
                SendConflictingTimeout(instance, timeout);
                break;
            default:
                ExecuteEffect(instance, effect);
                break;
        }
    }

    /// <summary>
    /// Two different blocks for one round, each to one side of a random split, sometimes both to one node. When the
    /// round was entered by TC, the second block forks from below the high QC: it carries the QC of the high-QC
    /// block's parent, which only the lock check (the TC's highest QC round) stops correct validators from accepting.
    /// </summary>
    private void Equivocate(SimInstance instance, Proposal proposal)
    {
        var block = proposal.Block;
        var otherBody = block.Transactions.Skip(1).Reverse().ToList();
        var forkFrom = proposal.LastRoundTc is not null && _coalitionBlocks.TryGetValue(block.ParentId, out var highQcBlock)
            ? highQcBlock
            : null;
        var other = forkFrom is null
            ? Block.Create(block.Round, block.Height, block.Header.Justify, block.Header.Proposer, block.Header.Timestamp + 1,
                otherBody, block.Header.ExecutedHeight, block.Header.ExecutedAppHash)
            : Block.Create(block.Round, forkFrom.Height, forkFrom.Header.Justify, block.Header.Proposer, block.Header.Timestamp + 1,
                otherBody, forkFrom.Header.ExecutedHeight, forkFrom.Header.ExecutedAppHash);
        var second = new Proposal(other, instance.Key.Sign(_chain.Domain.Proposal(other.Id)), proposal.LastRoundTc);
        ObserveAsAdversary(proposal);
        ObserveAsAdversary(second);

        var recipients = _instances.Where(i => i.Id != instance.Id).ToList();
        if (forkFrom is not null)
        {
            // Only the lock check stands in the way of the fork, so give every validator the chance to take it.
            Trace($"{instance} forks below its high QC: {other} extends {forkFrom.ParentId.ToShortString()}");
            SendToAll(instance, second, recipients);
            return;
        }

        _rng.Shuffle(recipients);
        var cut = recipients.Count > 1 ? 1 + _rng.Next(recipients.Count - 1) : recipients.Count;
        var firstSide = recipients.Take(cut).ToList();
        var secondSide = recipients.Skip(cut).ToList();
        if (firstSide.Count > 0 && _rng.Chance(0.3))
        {
            secondSide.Add(_rng.Pick(firstSide));
        }

        SendToAll(instance, proposal, firstSide);
        SendToAll(instance, second, secondSide);
        var nextLeader = _chain.Validators.LeaderOf(block.Round + 1);
        SendToAll(instance, SignVote(instance, other.Id, block.Round), _instances.Where(i => i.Validator == nextLeader));
    }

    private void VoteForEveryConflict(SimInstance instance, Vote vote, int leader)
    {
        if (!_coalitionProposals.TryGetValue(vote.Round, out var known))
        {
            return;
        }

        foreach (var proposal in known.Where(p => p.Block.Id != vote.BlockId).ToList())
        {
            SendToAll(instance, SignVote(instance, proposal.Block.Id, vote.Round), _instances.Where(i => i.Validator == leader));
        }
    }

    /// <summary>A vote for a block nobody proposed, a vote for a long-gone round, a vote in another validator's name, and garbled bytes.</summary>
    private void SendRogueVotes(SimInstance instance, Vote vote, int leader)
    {
        var leaderInstances = _instances.Where(i => i.Validator == leader).ToList();
        var invented = new byte[Hash32.Size];
        for (var i = 0; i < invented.Length; i++)
        {
            invented[i] = (byte)_rng.Next(256);
        }

        SendToAll(instance, SignVote(instance, new Hash32(invented), vote.Round), leaderInstances);

        var staleRound = vote.Round - _rng.Between(2, 6);
        if (staleRound >= 1)
        {
            var staleLeader = _chain.Validators.LeaderOf(staleRound + 1);
            SendToAll(instance, SignVote(instance, vote.BlockId, staleRound), _instances.Where(i => i.Validator == staleLeader));
        }

        var impersonated = (instance.Validator + 1 + _rng.Next(_chain.Validators.Count - 1)) % _chain.Validators.Count;
        SendToAll(instance, vote with { Voter = impersonated }, leaderInstances);

        var garbled = ConsensusCodec.Encode(vote);
        garbled[_rng.Next(garbled.Length)] ^= (byte)(1 + _rng.Next(255));
        foreach (var to in leaderInstances)
        {
            Send(instance.Id, to.Id, garbled, vote.Round);
        }
    }

    /// <summary>A second timeout for the same round reporting the genesis QC instead of the real high QC.</summary>
    private void SendConflictingTimeout(SimInstance instance, TimeoutVote timeout)
    {
        if (timeout.HighQc.Round == 0)
        {
            return;
        }

        var conflicting = new TimeoutVote(timeout.Round, _chain.GenesisQc, instance.Validator,
            instance.Key.Sign(_chain.Domain.Timeout(timeout.Round, 0)));
        SendToAll(instance, conflicting, _instances.Where(i => i.Id != instance.Id && _rng.Chance(0.5)));
    }

    private Vote SignVote(SimInstance instance, Hash32 blockId, long round) =>
        new(blockId, round, instance.Validator, instance.Key.Sign(_chain.Domain.Vote(blockId, round)));
}
