using IdOS.Akka.Engine.Kwil.Auth;
using IdOS.Akka.Engine.Kwil.Results;
using IdOS.Akka.Engine.Kwil.Transactions;
using IdOS.Akka.Engine.Storage;
using IdOS.Akka.Engine.Storage.Execution;
using IdOS.Akka.Engine.Storage.Schema;
using IdOS.Akka.Engine.Storage.Snapshots;
using LinqToDB;
using NSec.Cryptography;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Storage;

/// <summary>
/// The app hash of a fixed script of blocks, pinned: every stored block's app hash is recorded and checked again on
/// replay, so a change to how execution hashes rows, results or nonces must show here before it splits a running
/// network from its own history. Keys come from fixed seeds and ed25519 signs deterministically, so the
/// transactions' bytes, and with them the hash, are the same on every run and on both databases. The state they leave
/// is pinned too, as the root of its snapshot: validators on either database must write the same chunks.
/// </summary>
public abstract class AppHashStabilityTests<TStore> : OnStateStore<TStore>
    where TStore : ITestStateStore, new()
{
    /// <summary>Computed by the executor as of 2026-12-05 (before its allocation work) and unchanged since.</summary>
    private const string PinnedAppHash = "f4ce1c314a2323efc951216c088d899eff96c452175a6f8f37ed92bd4a3af740";

    /// <summary>The snapshot root of the script's state as first written (2026-12-06), the same on both databases.</summary>
    private const string PinnedSnapshotRoot = "0fb4927c02c327d2f3bd8f862988522fd881ed696893a803e948d1c1379f9ba0";

    private const string Chain = "idos-pinned";
    private static readonly Guid Inserter = Guid.Parse("11111111-1111-4111-8111-111111111111");
    private readonly Key _owner = Seeded(1);
    private readonly Key _issuer = Seeded(2);

    [Fact]
    public void A_fixed_script_of_blocks_gives_the_app_hash_it_always_gave()
    {
        using var state = StateDatabase.Open(Options);
        var appHash = RunScript(state);

        var codes = state.Connection.GetTable<TransactionResultRow>().OrderBy(r => r.Height).ThenBy(r => r.Position).Select(r => r.Code).ToList();
        Assert.Equal([0, 0, 0, 0, 0, 0, 113, TxCode.InvalidNonce, 0, 0, 0, 0, 0, 0, 111], codes);
        Assert.Equal(PinnedAppHash, Convert.ToHexStringLower(appHash));
    }

    [Fact]
    public void A_snapshot_of_the_scripts_state_has_the_root_it_always_had_and_each_chunk_matches_its_hash()
    {
        using var state = StateDatabase.Open(Options);
        var appHash = RunScript(state);
        var chunks = new List<byte[]>();

        var manifest = StateSnapshot.Write(state, (index, bytes) =>
        {
            Assert.Equal(chunks.Count, index);
            chunks.Add(bytes.ToArray());
        }, chunkBytes: 2048);

        Assert.Equal(3, manifest.Height);
        Assert.Equal(appHash, manifest.AppHash);
        // 1 inserter, 4 users, 4 attributes, and the owner's and the issuer's accounts (the delegate was deleted).
        Assert.Equal(11, manifest.Rows);
        Assert.True(chunks.Count > 1, $"{chunks.Count} chunk(s)");
        Assert.Equal(chunks.Select(c => System.Security.Cryptography.SHA256.HashData(c)), manifest.ChunkHashes);
        Assert.Equal(PinnedSnapshotRoot, Convert.ToHexStringLower(manifest.Root));

        var user = Guid.Parse("22222221-2222-4222-8222-222222222222");
        Assert.Equal(1, state.Connection.GetTable<UserRow>().Where(u => u.Id == user).Set(u => u.RecipientEncryptionPublicKey, "changed").Update());
        Assert.NotEqual(PinnedSnapshotRoot, Convert.ToHexStringLower(StateSnapshot.Write(state, (_, _) => { }, chunkBytes: 2048).Root));
    }

    /// <summary>The fixed script's three blocks, executed into <paramref name="state"/>; the app hash after them.</summary>
    private byte[] RunScript(StateDatabase state)
    {
        var executor = new BlockExecutor(state, Chain, new HashSet<string> { Convert.ToHexStringLower(Public(_owner)) }, Secp256k1.Recovery);
        var users = Enumerable.Range(0, 4).Select(i => Guid.Parse($"2222222{i}-2222-4222-8222-222222222222")).ToList();
        var issuer = Convert.ToHexStringLower(Public(_issuer));
        // Multi-byte UTF-8 in a value of about 2 KB of UTF-8: its bytes, not its UTF-16 length, go into the hash.
        var value = string.Concat(Enumerable.Repeat("äß€𝄞-", 170));
        List<List<byte[]>> blocks =
        [
            [
                Tx(_owner, 1, "add_inserter_as_owner", KwilValue.OfUuid(Inserter), KwilValue.OfText("issuer")),
                Tx(_owner, 2, "add_delegate_as_owner", KwilValue.OfText(issuer), KwilValue.OfUuid(Inserter)),
            ],
            [
                .. users.Select((user, i) => Tx(_issuer, (ulong)i + 1, "add_user_as_inserter", KwilValue.OfUuid(user), KwilValue.OfText($"key-{i}"), KwilValue.OfText("user"))),
                Tx(_issuer, 5, "add_user_as_inserter", KwilValue.OfUuid(users[0]), KwilValue.OfText("again"), KwilValue.OfText("user")),
                Tx(_issuer, 9, "add_user_as_inserter", KwilValue.OfUuid(Guid.Empty), KwilValue.OfText("skips a nonce"), KwilValue.OfText("user")),
            ],
            [
                .. users.Select((user, i) => Tx(_issuer, (ulong)i + 6, "add_attribute_as_inserter",
                    KwilValue.OfUuid(Guid.Parse($"3333333{i}-3333-4333-8333-333333333333")), KwilValue.OfUuid(user), KwilValue.OfText($"attribute-{i}"), KwilValue.OfText(value))),
                Tx(_issuer, 10, "update_user_pub_key_as_inserter", KwilValue.OfUuid(users[1]), KwilValue.OfText("key-1-next"), KwilValue.OfText("user")),
                Tx(_owner, 3, "delete_delegate_as_owner", KwilValue.OfText(issuer)),
                Tx(_issuer, 11, "add_user_as_inserter", KwilValue.OfUuid(Guid.Empty), KwilValue.OfText("no longer a delegate"), KwilValue.OfText("user")),
            ],
        ];

        var appHash = new byte[32];
        for (var i = 0; i < blocks.Count; i++)
        {
            appHash = executor.Execute(new BlockInput(i + 1, [(byte)(i + 1)], 1_700_000_000_000 + (i * 1_000), blocks[i]), appHash);
        }

        return appHash;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _owner.Dispose();
            _issuer.Dispose();
        }

        base.Dispose(disposing);
    }

    private static Key Seeded(byte seed) =>
        Key.Import(SignatureAlgorithm.Ed25519, Enumerable.Repeat(seed, 32).ToArray(), KeyBlobFormat.RawPrivateKey);

    private static byte[] Public(Key key) => Ed25519Transactions.PublicKey(key);

    private static byte[] Tx(Key key, ulong nonce, string action, params KwilValue[] arguments) =>
        Ed25519Transactions.Execute(key, Chain, nonce, action, arguments);
}

[Trait("Category", "Unit")]
public sealed class SqliteAppHashStabilityTests : AppHashStabilityTests<SqliteTestFile>;

[Trait("Category", "Postgres")]
public sealed class PostgresAppHashStabilityTests : AppHashStabilityTests<PostgresTestSchema>;
