using IdOS.Akka.Engine.Application;
using IdOS.Akka.Engine.Chain;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Kwil.Auth;
using IdOS.Akka.Engine.Kwil.Crypto;
using IdOS.Akka.Engine.Kwil.Results;
using IdOS.Akka.Engine.Kwil.Transactions;
using IdOS.Akka.Engine.Storage;
using IdOS.Akka.Engine.Storage.Schema;
using IdOS.Akka.Engine.Tests.Consensus;
using LinqToDB;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Application;

/// <summary>
/// The idOS application behind consensus: what its mempool check refuses, and how it comes back level with the
/// block store after a crash between executing a block and storing it, or from an empty state database.
/// </summary>
[Trait("Category", "Unit")]
public sealed class IdosApplicationTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("idos-app-");
    private readonly Ed25519PrivateKey _owner = Ed25519PrivateKey.GenerateExportable();
    private readonly Ed25519PrivateKey _validator = Ed25519PrivateKey.GenerateExportable();
    private readonly ChainParameters _chain;

    public IdosApplicationTests() =>
        _chain = new ChainParameters("idos-app-test", new ValidatorSet([_validator.PublicKey]), 1_700_000_000_000, databaseOwner: _owner.PublicKey.ToString());

    private KwilSigner Owner => KwilSigner.ForEd25519(_owner.PublicKey.Bytes, message => _owner.Sign(message));

    private StateStoreOptions StateOptions => StateStoreOptions.Sqlite(Path.Combine(_dir.FullName, "state.db"));

    [Fact]
    public void The_mempool_check_refuses_garbage_other_chains_and_bad_signatures_with_a_reason()
    {
        using var store = Store();
        using var app = IdosApplication.Open(StateOptions, _chain, store, Secp256k1.Recovery);
        var good = Owner.Execute(_chain.ChainId, 1, "add_inserter_as_owner", [KwilValue.OfUuid(Guid.NewGuid()), KwilValue.OfText("issuer")]);

        Assert.Null(app.CheckTransaction(good));
        Assert.NotNull(app.CheckTransaction([1, 2, 3]));
        Assert.Contains("is for chain 'elsewhere'", app.CheckTransaction(Owner.Execute("elsewhere", 1, "get_user", [])), StringComparison.Ordinal);
        Assert.Contains("does not verify", app.CheckTransaction(Forge(good)), StringComparison.Ordinal);
    }

    [Fact]
    public void A_state_one_block_ahead_of_the_store_is_recognised_and_an_empty_state_replays_the_stored_blocks()
    {
        Hash32 appHashAtTwo;
        Block second;
        using (var store = Store())
        using (var app = IdosApplication.Open(StateOptions, _chain, store, Secp256k1.Recovery))
        {
            var first = Next(_chain.GenesisBlock, app, [Owner.Execute(_chain.ChainId, 1, "add_inserter_as_owner", [KwilValue.OfUuid(Guid.NewGuid()), KwilValue.OfText("a")])]);
            store.AppendExecuted(first, Certificate(first), app.Execute(first));
            second = Next(first, app, [Owner.Execute(_chain.ChainId, 2, "add_inserter_as_owner", [KwilValue.OfUuid(Guid.NewGuid()), KwilValue.OfText("b")])]);

            // The crash: executed and committed in the state, never stored as a block.
            appHashAtTwo = app.Execute(second);
        }

        using (var store = Store())
        using (var app = IdosApplication.Open(StateOptions, _chain, store, Secp256k1.Recovery))
        {
            Assert.Equal(1, app.ExecutedHeight);
            Assert.Equal(appHashAtTwo, app.Execute(second));
            store.AppendExecuted(second, Certificate(second), appHashAtTwo);
            Assert.Equal(2, app.State.Connection.GetTable<InserterRow>().Count());
        }

        File.Delete(Path.Combine(_dir.FullName, "state.db"));
        using (var store = Store())
        using (var app = IdosApplication.Open(StateOptions, _chain, store, Secp256k1.Recovery))
        {
            Assert.Equal((2L, appHashAtTwo), (app.ExecutedHeight, app.AppHash));
        }

        using (var store = Store())
        {
            Assert.Equal(2, store.Prune(2, 10));
        }

        File.Delete(Path.Combine(_dir.FullName, "state.db"));
        using (var store = Store())
        {
            var refused = Assert.Throws<InvalidOperationException>(() => IdosApplication.Open(StateOptions, _chain, store, Secp256k1.Recovery));
            Assert.Contains("no longer stored", refused.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Signatures_the_mempool_checked_are_remembered_for_execution_and_the_memory_is_bounded()
    {
        var verified = new VerifiedSignatures();
        var someDecoded = KwilTransaction.FromBytes(Owner.Execute(_chain.ChainId, 1, "get_user", []));
        var first = System.Security.Cryptography.SHA256.HashData([1]);
        verified.Add(first, someDecoded);
        for (var i = 0; i < (2 * VerifiedSignatures.GenerationSize) + 1; i++)
        {
            Assert.True(i >= VerifiedSignatures.GenerationSize || verified.Contains(first));
            verified.Add(System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(i)), someDecoded);
        }

        Assert.False(verified.Contains(first));

        var good = Owner.Execute(_chain.ChainId, 1, "add_inserter_as_owner", [KwilValue.OfUuid(Guid.NewGuid()), KwilValue.OfText("a")]);
        Assert.Equal(0, TransactionGate.Check(good, _chain.ChainId, Secp256k1.Recovery).Code);
        var forged = Forge(good);
        Assert.Equal(TxCode.InvalidSignature, TransactionGate.Check(forged, _chain.ChainId, Secp256k1.Recovery).Code);
        Assert.Null(TransactionGate.RefusalForMempool(good, _chain.ChainId, Secp256k1.Recovery, verified));
        Assert.True(verified.Contains(System.Security.Cryptography.SHA256.HashData(good)));
        Assert.NotNull(TransactionGate.RefusalForMempool(forged, _chain.ChainId, Secp256k1.Recovery, verified));
        Assert.False(verified.Contains(System.Security.Cryptography.SHA256.HashData(forged)));

        // What the bytes decoded to is kept for execution, which takes it once; the verdict stays.
        Assert.True(verified.TryTakeDecoded(System.Security.Cryptography.SHA256.HashData(good), out var decoded));
        Assert.Equal(good, decoded.ToBytes());
        Assert.False(verified.TryTakeDecoded(System.Security.Cryptography.SHA256.HashData(good), out _));
        Assert.False(verified.TryTakeDecoded(System.Security.Cryptography.SHA256.HashData(forged), out _));
        Assert.True(verified.Contains(System.Security.Cryptography.SHA256.HashData(good)));
    }

    [Fact]
    public void The_mempool_check_places_a_transaction_in_its_accounts_line_and_the_state_tells_the_accounts_next_nonce()
    {
        using var store = Store();
        using var app = IdosApplication.Open(StateOptions, _chain, store, Secp256k1.Recovery);
        var first = Owner.Execute(_chain.ChainId, 1, "add_inserter_as_owner", [KwilValue.OfUuid(Guid.NewGuid()), KwilValue.OfText("a")]);

        var verdict = app.CheckForMempool(first, Block.TransactionHash(first));
        var garbage = app.CheckForMempool([1, 2, 3], Block.TransactionHash([1, 2, 3]));

        Assert.Null(verdict.Refusal);
        Assert.Equal(new SenderNonce("ed25519:" + Convert.ToHexString(_owner.PublicKey.Bytes), 1), verdict.Place);
        Assert.NotNull(garbage.Refusal);
        Assert.Null(garbage.Place);
        Assert.Equal(1UL, app.NextNonce(verdict.Place!.Value.Sender));
        var block = Next(_chain.GenesisBlock, app, [first]);
        store.AppendExecuted(block, Certificate(block), app.Execute(block));
        Assert.Equal(2UL, app.NextNonce(verdict.Place.Value.Sender));
    }

    public void Dispose()
    {
        _owner.Dispose();
        _validator.Dispose();
        _dir.Delete(recursive: true);
    }

    /// <summary>The same transaction with one bit of its signature flipped.</summary>
    private static byte[] Forge(byte[] transaction)
    {
        var decoded = KwilTransaction.FromBytes(transaction);
        var signature = (byte[])decoded.Signature!.Data.Clone();
        signature[0] ^= 1;
        return (decoded with { Signature = decoded.Signature with { Data = signature } }).ToBytes();
    }

    private SqliteBlockStore Store() => new(Path.Combine(_dir.FullName, "blocks.db"), _chain.Limits);

    private static Block Next(Block parent, IdosApplication app, IReadOnlyList<byte[]> transactions) =>
        Block.Create(parent.Round + 1, parent.Height + 1, new QuorumCertificate(parent.Id, parent.Round, [], []), 0,
            parent.Header.Timestamp + 1_000, transactions, app.ExecutedHeight, app.AppHash);

    private static QuorumCertificate Certificate(Block block) => new(block.Id, block.Round, [], []);
}
