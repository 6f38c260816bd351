using IdOS.Akka.Engine.Storage;
using Npgsql;

namespace IdOS.Akka.Engine.Tests.Storage;

/// <summary>A state database that exists for one test and is gone after it.</summary>
public interface ITestStateStore : IDisposable
{
    StateStoreOptions Options { get; }
}

/// <summary>
/// The base of the test classes that run unchanged on SQLite and on PostgreSQL: a subclass names the store, its
/// trait says which category runs it.
/// </summary>
public abstract class OnStateStore<TStore> : IDisposable
    where TStore : ITestStateStore, new()
{
    private readonly TStore _store = new();

    protected StateStoreOptions Options => _store.Options;

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            _store.Dispose();
        }
    }
}

/// <summary>A state database file of its own in a temporary folder, deleted on dispose: the SQLite twin of <see cref="PostgresTestSchema"/>.</summary>
public sealed class SqliteTestFile : ITestStateStore
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("idos-state-");

    public StateStoreOptions Options => StateStoreOptions.Sqlite(Path.Combine(_dir.FullName, "state.db"));

    public void Dispose() => _dir.Delete(recursive: true);
}

/// <summary>A schema of its own on the test server (IDOS_TEST_PG, or the local default CI creates), dropped on dispose.</summary>
public sealed class PostgresTestSchema : ITestStateStore
{
    private readonly string _name = "test_" + Guid.NewGuid().ToString("N");
    // Npgsql's 15 s connect timeout was once exceeded in CI while every core ran validator processes; a slow
    // connect there says nothing about the code under test, a refused or failing one still fails at once.
    private readonly string _server = new NpgsqlConnectionStringBuilder(
        Environment.GetEnvironmentVariable("IDOS_TEST_PG") ?? "Host=127.0.0.1;Username=idos;Password=idos;Database=idos_test") { Timeout = 60 }.ConnectionString;

    public PostgresTestSchema() => Run($"CREATE SCHEMA {_name}");

    public StateStoreOptions Options =>
        StateStoreOptions.PostgreSql(new NpgsqlConnectionStringBuilder(_server) { SearchPath = _name, Pooling = false }.ConnectionString);

    public void Dispose() => Run($"DROP SCHEMA {_name} CASCADE");

    private void Run(string sql)
    {
        using var connection = new NpgsqlConnection(_server);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }
}
