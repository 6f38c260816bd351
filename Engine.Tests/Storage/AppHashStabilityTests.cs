using IdOS.Akka.Engine.Kwil.Results;
using IdOS.Akka.Engine.Storage;
using IdOS.Akka.Engine.Storage.Schema;
using IdOS.Akka.Engine.Storage.Snapshots;
using LinqToDB;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Storage;

/// <summary>
/// The app hash of a fixed script of blocks, pinned: every stored block's app hash is recorded and checked again on
/// replay, so a change to how execution hashes rows, results or nonces must show here before it splits a running
/// network from its own history (<see cref="PinnedScript"/> makes the same bytes on every run). The state it leaves is
/// pinned too, as the root of its snapshot: validators on either database must write the same chunks.
/// </summary>
public abstract class AppHashStabilityTests<TStore> : OnStateStore<TStore>
    where TStore : ITestStateStore, new()
{
    /// <summary>Computed by the executor as of 2026-12-05 (before its allocation work) and unchanged since.</summary>
    private const string PinnedAppHash = "f4ce1c314a2323efc951216c088d899eff96c452175a6f8f37ed92bd4a3af740";

    /// <summary>The snapshot root of the script's state since the manifest left out the app hash (2026-12-06), the same on both databases.</summary>
    private const string PinnedSnapshotRoot = "efa1ecb87221c68804ff5081fc4a5b8f589c50542d296b721ea1cfd25517486b";

    private readonly PinnedScript _script = new();

    [Fact]
    public void A_fixed_script_of_blocks_gives_the_app_hash_it_always_gave()
    {
        using var state = StateDatabase.Open(Options);
        var appHash = _script.Run(state);

        var codes = state.Connection.GetTable<TransactionResultRow>().OrderBy(r => r.Height).ThenBy(r => r.Position).Select(r => r.Code).ToList();
        Assert.Equal([0, 0, 0, 0, 0, 0, 113, TxCode.InvalidNonce, 0, 0, 0, 0, 0, 0, 111], codes);
        Assert.Equal(PinnedAppHash, Convert.ToHexStringLower(appHash));
    }

    [Fact]
    public void A_snapshot_of_the_scripts_state_has_the_root_it_always_had_and_each_chunk_matches_its_hash()
    {
        using var state = StateDatabase.Open(Options);
        _script.Run(state);
        var chunks = new List<byte[]>();

        var manifest = StateSnapshot.Write(state, (index, bytes) =>
        {
            Assert.Equal(chunks.Count, index);
            chunks.Add(bytes.ToArray());
        }, chunkBytes: 2048);

        Assert.Equal(3, manifest.Height);
        // 1 inserter, 4 users, 4 attributes, and the owner's and the issuer's accounts (the delegate was deleted).
        Assert.Equal(11, manifest.Rows);
        Assert.True(chunks.Count > 1, $"{chunks.Count} chunk(s)");
        Assert.Equal(chunks.Select(c => System.Security.Cryptography.SHA256.HashData(c)), manifest.ChunkHashes);
        Assert.Equal(PinnedSnapshotRoot, Convert.ToHexStringLower(manifest.Root));

        var user = Guid.Parse("22222221-2222-4222-8222-222222222222");
        Assert.Equal(1, state.Connection.GetTable<UserRow>().Where(u => u.Id == user).Set(u => u.RecipientEncryptionPublicKey, "changed").Update());
        Assert.NotEqual(PinnedSnapshotRoot, Convert.ToHexStringLower(StateSnapshot.Write(state, (_, _) => { }, chunkBytes: 2048).Root));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _script.Dispose();
        }

        base.Dispose(disposing);
    }
}

[Trait("Category", "Unit")]
public sealed class SqliteAppHashStabilityTests : AppHashStabilityTests<SqliteTestFile>;

[Trait("Category", "Postgres")]
public sealed class PostgresAppHashStabilityTests : AppHashStabilityTests<PostgresTestSchema>;
