using IdOS.Akka.Engine.Storage.Migrations;
using LinqToDB;
using LinqToDB.Data;
using LinqToDB.DataProvider.SQLite;
using LinqToDB.Mapping;

namespace IdOS.Akka.Engine.Storage;

/// <summary>Where a node's idOS state lives: an embedded SQLite file (the default) or a PostgreSQL server.</summary>
public sealed record StateStoreOptions(SqlDialect Dialect, string ConnectionString)
{
    public static StateStoreOptions Sqlite(string path) => new(SqlDialect.Sqlite, $"Data Source={path};Pooling=False");

    public static StateStoreOptions PostgreSql(string connectionString) => new(SqlDialect.PostgreSql, connectionString);
}

/// <summary>
/// A connection to the state database with the schema migrated to the latest version. SQLite runs with foreign keys
/// enforced, WAL, synchronous=FULL and secure_delete=ON (deleted rows are overwritten, not left in free pages).
/// </summary>
public sealed class StateDatabase : IDisposable
{
    private StateDatabase(DataConnection connection, SqlDialect dialect)
    {
        Connection = connection;
        Dialect = dialect;
    }

    public DataConnection Connection { get; }

    public SqlDialect Dialect { get; }

    public static StateDatabase Open(StateStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var dataOptions = options.Dialect == SqlDialect.Sqlite
            ? new DataOptions().UseSQLite(options.ConnectionString, SQLiteProvider.Microsoft)
            : new DataOptions().UsePostgreSQL(options.ConnectionString);
        var connection = new DataConnection(dataOptions);
        try
        {
            if (options.Dialect == SqlDialect.Sqlite)
            {
                connection.Execute("PRAGMA foreign_keys=ON");
                connection.Execute("PRAGMA journal_mode=WAL");
                connection.Execute("PRAGMA synchronous=FULL");
                connection.Execute("PRAGMA secure_delete=ON");
            }

            var database = new StateDatabase(connection, options.Dialect);
            database.Migrate();
            return database;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>The versions applied, in order.</summary>
    public List<int> AppliedVersions() => [.. Connection.GetTable<MigrationRow>().OrderBy(m => m.Version).Select(m => m.Version)];

    /// <summary>
    /// SQLite: copies the WAL into the file and empties it, so that rows deleted (and zeroed by secure_delete) leave no
    /// older copy in the WAL. False when a reader held it this time. PostgreSQL keeps its own WAL: nothing to do here.
    /// </summary>
    public bool CheckpointAndTruncate() => Dialect != SqlDialect.Sqlite || SqliteFile.Checkpoint(Connection);

    public void Dispose() => Connection.Dispose();

    private void Migrate()
    {
        Connection.Execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)");
        var applied = AppliedVersions().ToHashSet();
        foreach (var migration in StateMigrations.All.Where(m => !applied.Contains(m.Version)).OrderBy(m => m.Version))
        {
            using var transaction = Connection.BeginTransaction();
            foreach (var statement in migration.Statements(Dialect))
            {
                Connection.Execute(statement);
            }

            Connection.Insert(new MigrationRow { Version = migration.Version, Name = migration.Name });
            transaction.Commit();
        }
    }

    [Table("schema_migrations")]
    private sealed class MigrationRow
    {
        [Column("version"), PrimaryKey] public int Version { get; set; }

        [Column("name"), NotNull] public string Name { get; set; } = "";
    }
}
