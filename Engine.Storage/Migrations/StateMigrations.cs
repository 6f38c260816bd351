namespace IdOS.Akka.Engine.Storage.Migrations;

public enum SqlDialect
{
    Sqlite,
    PostgreSql,
}

/// <summary>One schema change: applied once, in version order, inside a transaction, and recorded.</summary>
public sealed record Migration(int Version, string Name, Func<SqlDialect, IReadOnlyList<string>> Statements);

/// <summary>
/// The state database's schema as versioned migrations. A released migration is never edited: a change is a new
/// version. Column types differ only where the engines do (a UUID is `uuid` on PostgreSQL and 16 bytes on SQLite).
/// </summary>
public static class StateMigrations
{
    public static IReadOnlyList<Migration> All { get; } =
    [
        new Migration(1, "idos schema: users, wallets, credentials, attributes, inserters, delegates, grants", IdosSchema),
        new Migration(2, "execution: account nonces, transaction results, executed height and app hash", ExecutionTables),
        new Migration(3, "executed blocks keep their timestamp, for views between blocks", _ =>
            ["ALTER TABLE executed_blocks ADD COLUMN timestamp_ms BIGINT NOT NULL DEFAULT 0"]),
        new Migration(4, "triggers record the rows each transaction changes, for the app hash", Execution.ChangedRows.Migration),
        // Every user-signed action finds its caller's user by the EVM address in any case; without this index that is
        // a scan of all wallets per transaction (about 3 ms at 2,000 wallets).
        new Migration(5, "wallets found by lowercase address", _ => ["CREATE INDEX wallets_lower_address ON wallets (lower(address))"]),
        new Migration(6, "validator governance: scheduled validator sets and open join and removal requests", Governance.ValidatorTables.Migration),
    ];

    private static List<string> ExecutionTables(SqlDialect dialect)
    {
        var bytes = dialect == SqlDialect.PostgreSql ? "bytea" : "BLOB";
        var int8 = dialect == SqlDialect.PostgreSql ? "bigint" : "INTEGER";
        return
        [
            $"CREATE TABLE accounts (identifier {bytes} NOT NULL, key_type TEXT NOT NULL, nonce {int8} NOT NULL, PRIMARY KEY (identifier, key_type))",
            $"CREATE TABLE transaction_results (height {int8} NOT NULL, position INTEGER NOT NULL, tx_hash {bytes} NOT NULL, code INTEGER NOT NULL, log TEXT NOT NULL, PRIMARY KEY (height, position))",
            "CREATE INDEX transaction_results_hash ON transaction_results (tx_hash)",
            $"CREATE TABLE executed_blocks (height {int8} PRIMARY KEY, block_id {bytes} NOT NULL, app_hash {bytes} NOT NULL)",
        ];
    }

    private static List<string> IdosSchema(SqlDialect dialect)
    {
        var uuid = dialect == SqlDialect.PostgreSql ? "uuid" : "BLOB";
        var int8 = dialect == SqlDialect.PostgreSql ? "bigint" : "INTEGER";
        return
        [
            $"""
            CREATE TABLE users (
                id {uuid} PRIMARY KEY,
                recipient_encryption_public_key TEXT NOT NULL,
                encryption_password_store TEXT NOT NULL CHECK (encryption_password_store IN ('user', 'mpc')),
                inserter TEXT NOT NULL,
                gas_allowance TEXT NOT NULL DEFAULT '100000000000000000000')
            """,
            $"""
            CREATE TABLE wallets (
                id {uuid} PRIMARY KEY,
                user_id {uuid} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                address TEXT NOT NULL,
                public_key TEXT,
                wallet_type TEXT NOT NULL CHECK (wallet_type IN ('EVM', 'NEAR', 'XRPL', 'Stellar', 'FaceSign')),
                message TEXT,
                signature TEXT,
                inserter TEXT)
            """,
            "CREATE INDEX wallets_user_id ON wallets (user_id)",
            "CREATE INDEX wallets_address_type ON wallets (address, wallet_type)",
            "CREATE INDEX wallets_public_key_type ON wallets (public_key, wallet_type)",
            $"""
            CREATE TABLE credentials (
                id {uuid} PRIMARY KEY,
                user_id {uuid} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                verifiable_credential_id TEXT,
                public_notes TEXT NOT NULL,
                content TEXT NOT NULL,
                encryptor_public_key TEXT NOT NULL,
                issuer_auth_public_key TEXT NOT NULL,
                inserter TEXT,
                issuer_fee TEXT NOT NULL DEFAULT '0')
            """,
            "CREATE INDEX credentials_user_id ON credentials (user_id)",
            "CREATE INDEX credentials_vc_id ON credentials (verifiable_credential_id)",
            $"""
            CREATE TABLE shared_credentials (
                original_id {uuid} NOT NULL REFERENCES credentials (id) ON DELETE CASCADE,
                copy_id {uuid} NOT NULL REFERENCES credentials (id) ON DELETE CASCADE,
                PRIMARY KEY (original_id, copy_id))
            """,
            "CREATE INDEX shared_credentials_copy_id ON shared_credentials (copy_id)",
            $"""
            CREATE TABLE user_attributes (
                id {uuid} PRIMARY KEY,
                user_id {uuid} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                attribute_key TEXT NOT NULL,
                value TEXT NOT NULL,
                inserter TEXT)
            """,
            $"""
            CREATE TABLE shared_user_attributes (
                original_id {uuid} NOT NULL REFERENCES user_attributes (id) ON DELETE CASCADE,
                copy_id {uuid} NOT NULL REFERENCES user_attributes (id) ON DELETE CASCADE,
                PRIMARY KEY (original_id, copy_id))
            """,
            "CREATE INDEX shared_user_attributes_copy_id ON shared_user_attributes (copy_id)",
            $"CREATE TABLE inserters (id {uuid} PRIMARY KEY, name TEXT NOT NULL UNIQUE)",
            $"CREATE TABLE delegates (address TEXT PRIMARY KEY, inserter_id {uuid} NOT NULL REFERENCES inserters (id) ON DELETE CASCADE)",
            $"""
            CREATE TABLE consumed_write_grants (
                id {uuid} PRIMARY KEY,
                owner_wallet_identifier TEXT NOT NULL,
                grantee_wallet_identifier TEXT NOT NULL,
                issuer_public_key TEXT NOT NULL,
                original_credential_id {uuid} REFERENCES credentials (id) ON DELETE SET NULL,
                copy_credential_id {uuid} REFERENCES credentials (id) ON DELETE SET NULL,
                access_grant_timelock TEXT,
                not_usable_before TEXT,
                not_usable_after TEXT)
            """,
            $"""
            CREATE TABLE access_grants (
                id {uuid} PRIMARY KEY,
                ag_owner_user_id {uuid} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                ag_grantee_wallet_identifier TEXT NOT NULL,
                data_id {uuid} NOT NULL,
                locked_until {int8} NOT NULL DEFAULT 0,
                content_hash TEXT,
                height {int8} NOT NULL,
                inserter_type TEXT NOT NULL,
                inserter_id TEXT NOT NULL)
            """,
            "CREATE INDEX access_grants_data_id ON access_grants (data_id)",
            "CREATE INDEX access_grants_grantee_hash ON access_grants (ag_grantee_wallet_identifier, content_hash)",
            "CREATE INDEX access_grants_owner ON access_grants (ag_owner_user_id)",
        ];
    }
}
