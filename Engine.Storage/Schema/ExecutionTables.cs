using LinqToDB;
using LinqToDB.Data;
using LinqToDB.Mapping;

namespace IdOS.Akka.Engine.Storage.Schema;

/// <summary>A signer's last used nonce; the next transaction must carry this + 1.</summary>
[Table("accounts")]
public sealed class AccountRow
{
    [Column("identifier"), PrimaryKey(0)] public byte[] Identifier { get; set; } = [];

    [Column("key_type"), PrimaryKey(1)] public string KeyType { get; set; } = "";

    [Column("nonce"), NotNull] public long Nonce { get; set; }
}

/// <summary>What a transaction came to: code 0 or the failure's code, and its log (the failure message).</summary>
[Table("transaction_results")]
public sealed class TransactionResultRow
{
    [Column("height"), PrimaryKey(0)] public long Height { get; set; }

    [Column("position"), PrimaryKey(1)] public int Position { get; set; }

    [Column("tx_hash"), NotNull] public byte[] TransactionHash { get; set; } = [];

    [Column("code"), NotNull] public int Code { get; set; }

    [Column("log"), NotNull] public string Log { get; set; } = "";
}

/// <summary>Each executed height with its block and the app hash after it, written in the block's own transaction.</summary>
[Table("executed_blocks")]
public sealed class ExecutedBlockRow
{
    [Column("height"), PrimaryKey] public long Height { get; set; }

    [Column("block_id"), NotNull] public byte[] BlockId { get; set; } = [];

    [Column("app_hash"), NotNull] public byte[] AppHash { get; set; } = [];

    /// <summary>The block's timestamp: what views read as `@block_timestamp` between blocks.</summary>
    [Column("timestamp_ms"), NotNull] public long TimestampMs { get; set; }
}

/// <summary>The two questions everything that executes or reads asks of <see cref="ExecutedBlockRow"/>.</summary>
public static class ExecutedBlocks
{
    /// <summary>The last executed height, 0 before the first block.</summary>
    public static long Height(DataConnection db) => db.GetTable<ExecutedBlockRow>().Select(b => (long?)b.Height).Max() ?? 0;

    /// <summary>The app hash after <paramref name="height"/>, or null if it has not been executed.</summary>
    public static byte[]? AppHashAt(DataConnection db, long height) =>
        db.GetTable<ExecutedBlockRow>().Where(b => b.Height == height).Select(b => b.AppHash).FirstOrDefault();
}
