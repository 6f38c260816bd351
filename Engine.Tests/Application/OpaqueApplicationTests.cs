using IdOS.Akka.Engine.Application;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Tests.Consensus;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Application;

[Trait("Category", "Unit")]
public sealed class OpaqueApplicationTests : IDisposable
{
    private readonly Ed25519PrivateKey _key = Ed25519PrivateKey.GenerateExportable();

    [Fact]
    public void A_signed_transaction_is_admitted_and_any_changed_byte_is_refused_with_a_reason()
    {
        var transaction = OpaqueTransaction.CreateNumbered(_key, 7, 100);
        Assert.Equal(100, transaction.Length);
        Assert.Null(OpaqueTransaction.Check(transaction, Ed25519Verifier.Instance));

        foreach (var position in new[] { 0, 40, transaction.Length - 1 })
        {
            var changed = (byte[])transaction.Clone();
            changed[position] ^= 0x01;
            Assert.NotNull(OpaqueTransaction.Check(changed, Ed25519Verifier.Instance));
        }

        Assert.Contains("needs a 32-byte public key", OpaqueTransaction.Check(transaction.AsSpan(0, 96), Ed25519Verifier.Instance), StringComparison.Ordinal);
        Assert.Contains("needs a 32-byte public key", OpaqueTransaction.Check([], Ed25519Verifier.Instance), StringComparison.Ordinal);
    }

    [Fact]
    public void Numbered_transactions_of_one_key_are_all_distinct()
    {
        var hashes = Enumerable.Range(1, 500).Select(i => Engine.Consensus.Block.TransactionHash(OpaqueTransaction.CreateNumbered(_key, i, 100))).ToHashSet();

        Assert.Equal(500, hashes.Count);
    }

    [Fact]
    public void Two_applications_that_execute_the_same_blocks_agree_and_one_that_skips_a_block_does_not()
    {
        var t = new TestChain();
        var b1 = t.Block(1, t.Chain.GenesisBlock, t.Chain.GenesisQc, [TestChain.Tx(1)]);
        var b2 = t.Block(2, b1, transactions: [TestChain.Tx(2)]);
        var a = new OpaqueApplication(0, t.Chain.GenesisAppHash, Ed25519Verifier.Instance);
        var b = new OpaqueApplication(0, t.Chain.GenesisAppHash, Ed25519Verifier.Instance);
        var c = new OpaqueApplication(0, t.Chain.GenesisAppHash, Ed25519Verifier.Instance);

        a.Execute(b1);
        b.Execute(b1);
        Assert.Equal(a.Execute(b2), b.Execute(b2));
        Assert.NotEqual(a.AppHash, c.Execute(b2));
        Assert.Equal(2, a.ExecutedHeight);
    }

    public void Dispose() => _key.Dispose();
}
