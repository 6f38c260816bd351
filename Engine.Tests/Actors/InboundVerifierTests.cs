using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit;
using IdOS.Akka.Engine.Actors;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Tests.Consensus;
using IdOS.Akka.Engine.Tests.Crypto;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Actors;

/// <summary>A peer's inbound verifier checks signatures before the consensus actor sees a message, and changes nothing else.</summary>
[Trait("Category", "Unit")]
public sealed class InboundVerifierTests() : global::Akka.TestKit.Xunit2.TestKit(ConfigurationFactory.ParseString(TestFiles.NodeConf))
{
    private const int Local = 0;
    private readonly TestChain _t = new();
    private readonly CountingVerifier _counting = new();

    [Fact]
    public void Messages_reach_consensus_in_the_order_they_came_with_their_signatures_already_in_the_cache()
    {
        var (cache, consensus, verifier) = StartVerifier();
        var b1 = _t.Block(1, _t.Chain.GenesisBlock, _t.Chain.GenesisQc);
        var b2 = _t.Block(2, b1, _t.QcFor(b1, [1, 2, 3]));
        var messages = new ConsensusMessage[]
        {
            _t.Propose(b1), _t.Vote(3, b1.Id, 1), _t.Propose(b2), _t.Timeout(3, 3, _t.QcFor(b1, [1, 2, 3])), _t.Vote(3, b2.Id, 2),
        };

        foreach (var message in messages)
        {
            verifier.Tell(new ConsensusActor.Inbound(new PeerId(3), message));
        }

        foreach (var message in messages)
        {
            Assert.Same(message, consensus.ExpectMsg<ConsensusActor.Inbound>().Message);
        }

        // Only once the last has arrived: the verifier checks the next message while the one before is looked at.
        var replica = new SignatureChecks(_t.Chain, cache);
        var before = _counting.Calls;
        Assert.All(messages, message => Assert.True(replica.CheckSignatures(message).IsAccepted));
        Assert.Equal(before, _counting.Calls);
    }

    [Fact]
    public void This_validators_own_signatures_are_left_to_the_replica_and_forgeries_still_reach_it()
    {
        var (_, consensus, verifier) = StartVerifier();
        var b1 = _t.Block(1, _t.Chain.GenesisBlock, _t.Chain.GenesisQc);
        var b2 = _t.Block(2, b1, _t.QcFor(b1, [0, 1, 2]));
        var proposal = _t.Propose(b2);
        var forged = _t.Vote(1, b2.Id, 2) with { Signature = _t.Keys[1].Sign("not a vote"u8) };

        verifier.Tell(new ConsensusActor.Inbound(new PeerId(2), proposal));
        verifier.Tell(new ConsensusActor.Inbound(new PeerId(1), forged));

        Assert.Same(proposal, consensus.ExpectMsg<ConsensusActor.Inbound>().Message);
        Assert.Same(forged, consensus.ExpectMsg<ConsensusActor.Inbound>().Message);
        Assert.Equal(0, _counting.CallsFor(_t.Keys[Local].PublicKey));
        Assert.Equal(2, _counting.CallsFor(_t.Keys[1].PublicKey));
        Assert.Equal(2, _counting.CallsFor(_t.Keys[2].PublicKey));
    }

    /// <summary>Validator <see cref="Local"/>'s verifier for one peer, with a probe for the consensus actor.</summary>
    private (VerifiedSignatureCache Cache, TestProbe Consensus, IActorRef Verifier) StartVerifier()
    {
        var cache = new VerifiedSignatureCache(_counting);
        var consensus = CreateTestProbe();
        return (cache, consensus, Sys.ActorOf(InboundVerifier.Props(_t.Chain, _t.Keys[Local].PublicKey, cache, consensus)));
    }
}
