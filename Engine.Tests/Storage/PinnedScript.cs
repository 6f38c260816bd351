using IdOS.Akka.Engine.Kwil.Auth;
using IdOS.Akka.Engine.Kwil.Transactions;
using IdOS.Akka.Engine.Storage;
using IdOS.Akka.Engine.Storage.Execution;
using IdOS.Akka.Engine.Storage.Snapshots;
using NSec.Cryptography;

namespace IdOS.Akka.Engine.Tests.Storage;

/// <summary>
/// Three fixed blocks of idOS writes (an inserter and its delegate, users, attributes with multi-byte text, a key
/// update, a deleted delegate, and failures: a duplicate, a skipped nonce, a write by a delegate no longer there).
/// Keys come from fixed seeds and ed25519 signs deterministically, so the transactions' bytes, and every hash of
/// the state they leave, are the same on every run and on both databases.
/// </summary>
public sealed class PinnedScript : IDisposable
{
    private const string Chain = "idos-pinned";
    private static readonly Guid Inserter = Guid.Parse("11111111-1111-4111-8111-111111111111");
    private readonly Key _owner = Seeded(1);
    private readonly Key _issuer = Seeded(2);

    /// <summary>
    /// The fixed script's three blocks, executed into <paramref name="state"/> (taking snapshots on
    /// <paramref name="snapshots"/>' schedule); the app hash after them.
    /// </summary>
    public byte[] Run(StateDatabase state, SnapshotSchedule? snapshots = null)
    {
        var executor = Executor(state, snapshots);
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

    /// <summary>A fourth block for a state the script left: the owner adds an inserter.</summary>
    public BlockInput NextBlock() =>
        new(4, [4], 1_700_000_003_000, [Tx(_owner, 4, "add_inserter_as_owner", KwilValue.OfUuid(Guid.Parse("44444444-4444-4444-8444-444444444444")), KwilValue.OfText("second"))]);

    public BlockExecutor Executor(StateDatabase state, SnapshotSchedule? snapshots = null) =>
        new(state, Chain, new HashSet<string> { Convert.ToHexStringLower(Public(_owner)) }, Secp256k1.Recovery, snapshots: snapshots);

    public void Dispose()
    {
        _owner.Dispose();
        _issuer.Dispose();
    }

    private static Key Seeded(byte seed) =>
        Key.Import(SignatureAlgorithm.Ed25519, Enumerable.Repeat(seed, 32).ToArray(), KeyBlobFormat.RawPrivateKey);

    private static byte[] Public(Key key) => Ed25519Transactions.PublicKey(key);

    private static byte[] Tx(Key key, ulong nonce, string action, params KwilValue[] arguments) =>
        Ed25519Transactions.Execute(key, Chain, nonce, action, arguments);
}
