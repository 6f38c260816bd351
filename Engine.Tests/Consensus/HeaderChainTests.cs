using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Consensus;

/// <summary>Following the committed chain from genesis by headers: only what the certificates and the two-chain rule prove.</summary>
[Trait("Category", "Unit")]
public sealed class HeaderChainTests
{
    private readonly TestChain _t = new();

    [Fact]
    public void Headers_in_consecutive_rounds_commit_all_but_the_last_two_each_with_the_qc_its_successor_carries()
    {
        var blocks = Chain(10, [TestChain.Tx(1)]);
        var headers = new HeaderChain(_t.Chain, new SignatureChecks(_t.Chain, Ed25519Verifier.Instance));

        var (committed, refusal) = headers.Add([.. blocks.Take(4).Select(Header)]);
        var (more, _) = headers.Add([.. blocks.Skip(4).Select(Header)]);

        Assert.Null(refusal);
        Assert.Equal(8, headers.CommittedHeight);
        Assert.Equal(blocks.Take(8).Select(b => b.Id), committed.Concat(more).Select(c => c.Header.Id));
        Assert.All(committed.Concat(more), c => Assert.Equal(c.Header.Id, c.Certificate.BlockId));
        Assert.Equal(11, headers.NextHeight);
    }

    [Fact]
    public void A_gap_in_rounds_holds_commits_back_until_two_consecutive_rounds_come()
    {
        var b1 = _t.Block(1, _t.Chain.GenesisBlock, _t.Chain.GenesisQc);
        var b2 = _t.Block(3, b1);
        var b3 = _t.Block(5, b2);
        var b4 = _t.Block(6, b3);
        var b5 = _t.Block(7, b4);
        var headers = new HeaderChain(_t.Chain, new SignatureChecks(_t.Chain, Ed25519Verifier.Instance));

        Assert.Empty(headers.Add([Header(b1), Header(b2), Header(b3), Header(b4)]).Committed);
        Assert.Equal([b1.Id, b2.Id, b3.Id], headers.Add([Header(b5)]).Committed.Select(c => c.Header.Id));
    }

    [Fact]
    public void A_forged_qc_a_wrong_parent_a_skipped_height_or_hashes_the_root_does_not_commit_to_are_refused()
    {
        var blocks = Chain(5, [TestChain.Tx(2)]);
        var checks = new SignatureChecks(_t.Chain, Ed25519Verifier.Instance);
        var forgedQc = blocks[2].Header.Justify with { Signatures = [.. blocks[2].Header.Justify.Signatures.Select(s => s.Select(b => (byte)(b ^ 1)).ToArray())] };
        var forged = new PrunedBlock(blocks[2].Header with { Justify = forgedQc }, blocks[2].TransactionHashes);
        var otherHashes = new PrunedBlock(blocks[2].Header, [Hash32.Compute("other"u8)]);

        foreach (var (bad, reason) in new[] { (forged, "header 3"), (otherHashes, "Merkle root"), (Header(blocks[3]), "where 3 comes next") })
        {
            var headers = new HeaderChain(_t.Chain, checks);
            var (_, refusal) = headers.Add([Header(blocks[0]), Header(blocks[1]), bad]);
            Assert.Contains(reason, refusal, StringComparison.Ordinal);
            Assert.Equal(3, headers.NextHeight);
        }

        var fork = _t.Block(2, _t.Block(1, _t.Chain.GenesisBlock, _t.Chain.GenesisQc, [TestChain.Tx(3)]));
        Assert.Contains("not the child", new HeaderChain(_t.Chain, checks).Add([Header(blocks[0]), Header(fork)]).Refusal, StringComparison.Ordinal);
    }

    private List<Block> Chain(int length, IReadOnlyList<byte[]> transactions)
    {
        var blocks = new List<Block>();
        var parent = _t.Chain.GenesisBlock;
        for (var round = 1; round <= length; round++)
        {
            var block = round == 1 ? _t.Block(1, parent, _t.Chain.GenesisQc, transactions) : _t.Block(round, parent, transactions: transactions);
            blocks.Add(block);
            parent = block;
        }

        return blocks;
    }

    private static PrunedBlock Header(Block block) => new(block.Header, block.TransactionHashes);
}
