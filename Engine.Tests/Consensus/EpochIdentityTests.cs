using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Storage.Governance;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Consensus;

/// <summary>How a block and a signature name their epoch: the set hash consensus checks is the one governance schedules.</summary>
[Trait("Category", "Unit")]
public sealed class EpochIdentityTests
{
    private readonly TestChain _t = new(validators: 5);

    [Fact]
    public void Consensus_and_governance_hash_a_set_alike_and_order_matters()
    {
        var keys = Enumerable.Range(0, 5).Select(i => _t.Chain.Validators[i].ToString()).ToList();
        var reordered = new ValidatorSet([.. Enumerable.Range(0, 5).Reverse().Select(i => _t.Chain.Validators[i])]);

        Assert.Equal(ValidatorMember.SetHash(keys), _t.Chain.Validators.Hash.ToString());
        Assert.NotEqual(_t.Chain.Validators.Hash, reordered.Hash);
    }

    [Fact]
    public void A_later_epoch_keeps_genesis_and_signs_apart_while_genesis_signs_as_it_always_did()
    {
        var smaller = new ValidatorSet([.. Enumerable.Range(0, 4).Select(i => _t.Chain.Validators[i])]);
        var epoch1 = _t.Chain.ForEpoch(1, smaller);
        var id = _t.Chain.GenesisBlock.Id;

        Assert.Equal((1L, smaller.Hash, _t.Chain.GenesisBlock.Id), (epoch1.Epoch, epoch1.Validators.Hash, epoch1.GenesisBlock.Id));
        Assert.Equal(new SigningDomain(_t.Chain.ChainId).Vote(id, 3), _t.Chain.Domain.Vote(id, 3));
        Assert.NotEqual(_t.Chain.Domain.Vote(id, 3), epoch1.Domain.Vote(id, 3));
        Assert.NotEqual(_t.Chain.Domain.Timeout(3, 2), epoch1.Domain.Timeout(3, 2));
        Assert.NotEqual(epoch1.Domain.Timeout(3, 2), _t.Chain.ForEpoch(2, smaller).Domain.Timeout(3, 2));
    }
}
