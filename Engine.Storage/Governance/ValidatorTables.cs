using IdOS.Akka.Engine.Storage.Execution;
using IdOS.Akka.Engine.Storage.Migrations;
using LinqToDB.Mapping;

namespace IdOS.Akka.Engine.Storage.Governance;

/// <summary>
/// A validator set that governance scheduled: epoch 1 and up (epoch 0 is genesis and is not stored), the height its
/// first block has, and its members in validator-index order (<see cref="ValidatorMember.Format"/>). Keyed by the
/// epoch number as 20 digits, so that keys order as numbers do.
/// </summary>
[Table(ValidatorTables.Epochs)]
public sealed class ValidatorEpochRow
{
    [Column("id"), PrimaryKey] public string Id { get; set; } = "";

    [Column("epoch"), NotNull] public long Epoch { get; set; }

    [Column("start_height"), NotNull] public long StartHeight { get; set; }

    /// <summary>The height of the block whose governance transaction scheduled this set.</summary>
    [Column("decided_height"), NotNull] public long DecidedHeight { get; set; }

    [Column("members"), NotNull] public string Members { get; set; } = "";

    /// <summary>Hex SHA-256 over the members' keys in order (<see cref="ValidatorMember.SetHash"/>).</summary>
    [Column("set_hash"), NotNull] public string SetHash { get; set; } = "";

    public static string IdOf(long epoch) => epoch.ToString("D20", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>
/// An open join or removal: its subject, who approved it so far (sorted hex keys, comma-separated) and the height
/// after which it lapses. A join also holds the candidate's TLS pin and address until it passes.
/// </summary>
[Table(ValidatorTables.Requests)]
public sealed class ValidatorRequestRow
{
    /// <summary>`join:` or `remove:` and the subject's hex key: one open request of each kind per subject.</summary>
    [Column("id"), PrimaryKey] public string Id { get; set; } = "";

    [Column("kind"), NotNull] public string Kind { get; set; } = "";

    [Column("subject"), NotNull] public string Subject { get; set; } = "";

    [Column("tls_pin"), Nullable] public string? TlsPin { get; set; }

    [Column("address"), Nullable] public string? Address { get; set; }

    [Column("opened_height"), NotNull] public long OpenedHeight { get; set; }

    [Column("expires_height"), NotNull] public long ExpiresHeight { get; set; }

    [Column("approvals"), NotNull] public string Approvals { get; set; } = "";
}

public static class ValidatorTables
{
    public const string Epochs = "validator_epochs";
    public const string Requests = "validator_requests";

    /// <summary>The tables and the triggers that put their changes into the app hash, like every idOS table's.</summary>
    public static List<string> Migration(SqlDialect dialect)
    {
        var int8 = dialect == SqlDialect.PostgreSql ? "bigint" : "INTEGER";
        List<string> statements =
        [
            $"CREATE TABLE {Epochs} (id TEXT PRIMARY KEY, epoch {int8} NOT NULL UNIQUE, start_height {int8} NOT NULL, decided_height {int8} NOT NULL, members TEXT NOT NULL, set_hash TEXT NOT NULL)",
            $"CREATE TABLE {Requests} (id TEXT PRIMARY KEY, kind TEXT NOT NULL, subject TEXT NOT NULL, tls_pin TEXT, address TEXT, opened_height {int8} NOT NULL, expires_height {int8} NOT NULL, approvals TEXT NOT NULL)",
        ];
        statements.AddRange(ChangedRows.TriggersFor(dialect, Epochs, Requests));
        return statements;
    }
}
