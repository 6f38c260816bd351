using IdOS.Akka.Engine.Kwil.Auth;
using IdOS.Akka.Engine.Kwil.Transactions;
using IdOS.Akka.Engine.Storage.Execution;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Storage;

/// <summary>
/// A leader whose mempool lacks an account's earlier nonces (a restarted validator missed their forwarding) must not
/// propose the later ones: they would execute with code 4 and be lost to their sender.
/// </summary>
[Trait("Category", "Unit")]
public sealed class NonceSequencerTests
{
    private const string Chain = "sequencer";
    private readonly KwilSigner _alice = KwilSigner.ForEvm(EvmKey.Generate());
    private readonly KwilSigner _bob = KwilSigner.ForEvm(EvmKey.Generate());

    private static byte[] Tx(KwilSigner signer, ulong nonce) => signer.Execute(Chain, nonce, "has_profile", [KwilValue.OfText($"{nonce}")]);

    private static long NoneCommitted(byte[] signer, string keyType) => 0;

    [Fact]
    public void An_account_past_a_gap_waits_and_one_without_a_gap_goes_in_nonce_order()
    {
        var aliceAfterGap = new[] { Tx(_alice, 3), Tx(_alice, 4) };
        var bob = new[] { Tx(_bob, 2), Tx(_bob, 1) };

        var sequence = NonceSequencer.Sequence([aliceAfterGap[0], bob[0], aliceAfterGap[1], bob[1]], [], NoneCommitted);

        Assert.Equal([bob[1], bob[0]], sequence);
    }

    [Fact]
    public void Nonces_in_the_uncommitted_blocks_and_the_committed_state_close_the_gap()
    {
        var committedTwo = (byte[] signer, string keyType) => signer.AsSpan().SequenceEqual(_alice.Sender) ? 2L : 0L;
        var later = new[] { Tx(_alice, 5), Tx(_alice, 6), Tx(_alice, 8) };

        var sequence = NonceSequencer.Sequence(later, [[Tx(_alice, 3)], [Tx(_alice, 4), Tx(_bob, 1)]], committedTwo);

        Assert.Equal([later[0], later[1]], sequence);
    }

    [Fact]
    public void A_used_nonce_and_bytes_that_are_no_kwil_transaction_still_go_in_to_fail_with_their_result()
    {
        var used = Tx(_alice, 1);
        byte[] garbage = [1, 2, 3];

        var sequence = NonceSequencer.Sequence([garbage, used], [], (_, _) => 7);

        Assert.Equal([garbage, used], sequence);
    }

    [Fact]
    public void A_block_the_state_already_holds_counts_for_nothing_a_second_time()
    {
        // The executor may have run a block the consensus thread still lists as unexecuted: Alice's nonce 3 is then in
        // both. Counted twice, her nonce 5 would look next and fail for the missing 4.
        var block = new[] { Tx(_alice, 3) };
        var executed = (byte[] signer, string keyType) => signer.AsSpan().SequenceEqual(_alice.Sender) ? 3L : 0L;
        var notYet = (byte[] signer, string keyType) => signer.AsSpan().SequenceEqual(_alice.Sender) ? 2L : 0L;
        var afterGap = Tx(_alice, 5);
        var inOrder = new[] { Tx(_alice, 4), afterGap };

        Assert.Empty(NonceSequencer.Sequence([afterGap], [block], executed));
        Assert.Empty(NonceSequencer.Sequence([afterGap], [block], notYet));
        Assert.Equal(inOrder, NonceSequencer.Sequence(inOrder, [block], executed));
        Assert.Equal(inOrder, NonceSequencer.Sequence(inOrder, [block], notYet));
    }
}
