using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Simulation;

/// <summary>
/// The Byzantine validators: each runs the correct replica to keep up with the protocol, and this coalition (which
/// sees every proposal any of its members received) rewrites what they send. They hold only their own keys.
/// </summary>
internal sealed class Coalition
{
    private readonly IAdversaryWorld _world;
    private readonly LockAttacker _lockAttacker;
    private readonly Dictionary<long, List<Proposal>> _coalitionProposals = [];
    private readonly Dictionary<(long Round, Hash32 Block), SortedDictionary<int, byte[]>> _coalitionVotes = [];

    private readonly Dictionary<Hash32, int> _sideOfBlock = [];
    private int[]? _sides;

    public Coalition(IAdversaryWorld world)
    {
        _world = world;
        _lockAttacker = new LockAttacker(world, this);
    }

    /// <summary>Every block the coalition has seen proposed, by id.</summary>
    public Dictionary<Hash32, Block> Blocks { get; } = [];

    /// <summary>Every QC the coalition holds (seen in proposals or aggregated from votes it received), by round and block.</summary>
    public Dictionary<long, Dictionary<Hash32, QuorumCertificate>> Qcs { get; } = [];

    /// <summary>Everything a Byzantine instance receives is shared: proposals, and votes it aggregates into QCs of its own.</summary>
    public void Observe(ConsensusMessage message)
    {
        switch (message)
        {
            case Proposal proposal:
                RememberProposal(proposal);
                RememberQc(proposal.Block.Header.Justify);
                break;
            case Vote vote when _world.Chain.Validators.IsValidIndex(vote.Voter)
                && _world.Verifier.Verify(_world.Chain.Validators[vote.Voter], _world.Chain.Domain.Vote(vote.BlockId, vote.Round), vote.Signature):
                if (!_coalitionVotes.TryGetValue((vote.Round, vote.BlockId), out var signatures))
                {
                    signatures = [];
                    _coalitionVotes[(vote.Round, vote.BlockId)] = signatures;
                }

                signatures[vote.Voter] = vote.Signature;
                if (signatures.Count == _world.Chain.Validators.Quorum)
                {
                    RememberQc(new QuorumCertificate(vote.BlockId, vote.Round,
                        SignerBitmap.Create(_world.Chain.Validators.Count, signatures.Keys), [.. signatures.Values]));
                }

                break;
            default:
                break;
        }

        _lockAttacker.Observe(message);
    }

    public void RememberProposal(Proposal proposal)
    {
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
            Blocks[proposal.Block.Id] = proposal.Block;
        }
    }

    private void RememberQc(QuorumCertificate qc)
    {
        if (!Qcs.TryGetValue(qc.Round, out var byBlock))
        {
            byBlock = [];
            Qcs[qc.Round] = byBlock;
        }

        byBlock.TryAdd(qc.BlockId, qc);
    }

    /// <summary>Carries out one effect of a Byzantine instance: rewritten, multiplied, or as a correct one would.</summary>
    public void Execute(SimInstance instance, ReplicaEffect effect)
    {
        if (effect is Broadcast or SendToValidator or Reply && _lockAttacker.Silences(instance))
        {
            return;
        }

        switch (effect)
        {
            case Broadcast { Message: Proposal proposal } when instance.Role == NodeRole.EquivocatingLeader:
                if (!(_world.Random.Chance(0.5) && _lockAttacker.TryStart(instance, proposal)))
                {
                    Equivocate(instance, proposal);
                }

                break;
            case SendToValidator { Message: Vote vote } send:
                _world.ExecuteHonestly(instance, effect);
                VoteForEveryConflict(instance, vote, send.Validator);
                if (instance.Role == NodeRole.RogueVoter)
                {
                    SendRogueVotes(instance, vote, send.Validator);
                }

                break;
            case Broadcast { Message: TimeoutVote timeout } when instance.Role == NodeRole.RogueVoter:
                _world.ExecuteHonestly(instance, effect);
                SendConflictingTimeout(instance, timeout);
                break;
            default:
                _world.ExecuteHonestly(instance, effect);
                break;
        }
    }

    /// <summary>
    /// Two different blocks for one round, one to each side of a split that stays fixed for the whole world, and
    /// each side later gets the other side's block too. The second block extends, in order of preference: another
    /// block certified in the same round as the leader's high QC (the coalition aggregates votes it receives, so
    /// each side keeps its own branch); when the round was entered by TC, the parent of the high-QC block, which only
    /// the lock check stops correct validators from accepting; or the same parent with another body.
    /// </summary>
    private void Equivocate(SimInstance instance, Proposal proposal)
    {
        var block = proposal.Block;
        var header = block.Header;
        var otherBody = block.Transactions.Skip(1).Reverse().ToList();
        var otherTimestamp = header.Timestamp + 1;
        RememberProposal(proposal);

        Block other;
        var rivalQc = Qcs.GetValueOrDefault(header.Justify.Round)?.Values
            .FirstOrDefault(qc => qc.BlockId != block.ParentId && Blocks.ContainsKey(qc.BlockId));
        if (rivalQc is not null)
        {
            var rival = Blocks[rivalQc.BlockId];
            var (executedHeight, appHash) = header.ExecutedHeight <= rival.Height
                ? (header.ExecutedHeight, header.ExecutedAppHash)
                : (rival.Header.ExecutedHeight, rival.Header.ExecutedAppHash);
            other = Block.Create(block.Round, rival.Height + 1, rivalQc, header.Proposer, otherTimestamp, otherBody, executedHeight, appHash,
                epoch: header.Epoch, setHash: header.SetHash);
        }
        else if (proposal.LastRoundTc is not null && Blocks.TryGetValue(block.ParentId, out var highQcBlock))
        {
            other = Block.Create(block.Round, highQcBlock.Height, highQcBlock.Header.Justify, header.Proposer, otherTimestamp, otherBody,
                highQcBlock.Header.ExecutedHeight, highQcBlock.Header.ExecutedAppHash, epoch: header.Epoch, setHash: header.SetHash);
            _world.Trace($"{instance} forks below its high QC: {other} extends {highQcBlock.ParentId.ToShortString()}");
        }
        else
        {
            other = Block.Create(block.Round, block.Height, header.Justify, header.Proposer, otherTimestamp, otherBody,
                header.ExecutedHeight, header.ExecutedAppHash, epoch: header.Epoch, setHash: header.SetHash);
        }

        var second = new Proposal(other, instance.Key.Sign(_world.Chain.Domain.Proposal(other.Id)), proposal.LastRoundTc);
        RememberProposal(second);

        var sides = SidesFor(instance);
        var firstSide = _sideOfBlock.GetValueOrDefault(block.ParentId, 0);
        var secondSide = rivalQc is not null ? _sideOfBlock.GetValueOrDefault(rivalQc.BlockId, 1 - firstSide) : 1 - firstSide;
        if (secondSide == firstSide)
        {
            secondSide = 1 - firstSide;
        }

        _sideOfBlock[block.Id] = firstSide;
        _sideOfBlock[other.Id] = secondSide;
        var recipients = _world.Instances.Where(i => i.Id != instance.Id).ToList();
        var crossingDelay = _world.Random.Between(10, 200);
        foreach (var to in recipients)
        {
            var (own, crossing) = sides[to.Id] == secondSide ? (second, proposal) : (proposal, second);
            _world.Network.Send(instance.Id, to.Id, ConsensusCodec.Encode(own), block.Round);
            _world.Network.Send(instance.Id, to.Id, ConsensusCodec.Encode(crossing), block.Round, crossingDelay);
        }

        var nextLeader = instance.Replica!.Leaders.LeaderOf(block.Round + 1);
        _world.Network.SendToAll(instance, SignVote(instance, other.Id, block.Round), _world.Instances.Where(i => i.Validator == nextLeader));
    }

    /// <summary>One split of all instances into two sides, drawn once, so that each side keeps following its own branch.</summary>
    private int[] SidesFor(SimInstance attacker)
    {
        if (_sides is null)
        {
            _sides = new int[_world.Instances.Count];
            var others = _world.Instances.Where(i => i.Id != attacker.Id).Select(i => i.Id).ToList();
            _world.Random.Shuffle(others);
            var cut = others.Count > 1 ? 1 + _world.Random.Next(others.Count - 1) : others.Count;
            foreach (var id in others.Skip(cut))
            {
                _sides[id] = 1;
            }
        }

        return _sides;
    }

    private void VoteForEveryConflict(SimInstance instance, Vote vote, int leader)
    {
        if (!_coalitionProposals.TryGetValue(vote.Round, out var known))
        {
            return;
        }

        foreach (var proposal in known.Where(p => p.Block.Id != vote.BlockId).ToList())
        {
            _world.Network.SendToAll(instance, SignVote(instance, proposal.Block.Id, vote.Round), _world.Instances.Where(i => i.Validator == leader));
        }
    }

    /// <summary>A vote for a block nobody proposed, a vote for a long-gone round, a vote in another validator's name, and garbled bytes.</summary>
    private void SendRogueVotes(SimInstance instance, Vote vote, int leader)
    {
        var leaderInstances = _world.Instances.Where(i => i.Validator == leader).ToList();
        var invented = new byte[Hash32.Size];
        for (var i = 0; i < invented.Length; i++)
        {
            invented[i] = (byte)_world.Random.Next(256);
        }

        _world.Network.SendToAll(instance, SignVote(instance, new Hash32(invented), vote.Round), leaderInstances);

        var staleRound = vote.Round - _world.Random.Between(2, 6);
        if (staleRound >= 1)
        {
            var staleLeader = instance.Replica!.Leaders.LeaderOf(staleRound + 1);
            _world.Network.SendToAll(instance, SignVote(instance, vote.BlockId, staleRound), _world.Instances.Where(i => i.Validator == staleLeader));
        }

        var impersonated = (instance.Validator + 1 + _world.Random.Next(_world.Chain.Validators.Count - 1)) % _world.Chain.Validators.Count;
        _world.Network.SendToAll(instance, vote with { Voter = impersonated }, leaderInstances);

        var garbled = ConsensusCodec.Encode(vote);
        garbled[_world.Random.Next(garbled.Length)] ^= (byte)(1 + _world.Random.Next(255));
        foreach (var to in leaderInstances)
        {
            _world.Network.Send(instance.Id, to.Id, garbled, vote.Round);
        }
    }

    /// <summary>A second timeout for the same round reporting the genesis QC instead of the real high QC.</summary>
    private void SendConflictingTimeout(SimInstance instance, TimeoutVote timeout)
    {
        if (timeout.HighQc.Round == 0)
        {
            return;
        }

        var conflicting = new TimeoutVote(timeout.Round, _world.Chain.GenesisQc, instance.Validator,
            instance.Key.Sign(_world.Chain.Domain.Timeout(timeout.Round, 0)));
        _world.Network.SendToAll(instance, conflicting, _world.Instances.Where(i => i.Id != instance.Id && _world.Random.Chance(0.5)));
    }

    public Vote SignVote(SimInstance instance, Hash32 blockId, long round) =>
        new(blockId, round, instance.Validator, instance.Key.Sign(_world.Chain.Domain.Vote(blockId, round)));
}
