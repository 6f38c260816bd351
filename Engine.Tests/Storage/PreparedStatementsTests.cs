using System.Data.Common;
using IdOS.Akka.Engine.Storage;
using IdOS.Akka.Engine.Storage.Schema;
using LinqToDB;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Storage;

/// <summary>
/// The statements the executor and the block store run outside linq2db: on SQLite they run on the connection's
/// handle, so every value must bind and read back as linq2db and the ADO.NET driver bind and read it, on both
/// databases, and failures must look like the driver's.
/// </summary>
public abstract class PreparedStatementsTests<TStore> : OnStateStore<TStore>
    where TStore : ITestStateStore, new()
{
    [Fact]
    public void Values_written_here_read_back_through_linq2db_and_the_other_way_round()
    {
        using var state = StateDatabase.Open(Options);
        var statements = PreparedStatements.Of(state.Connection);
        var written = Guid.NewGuid();
        statements.Insert(new InserterRow { Id = written, Name = "ünïcode 𝄞" });
        var read = Guid.NewGuid();
        state.Connection.Insert(new InserterRow { Id = read, Name = "by linq2db" });

        Assert.Equal("ünïcode 𝄞", state.Connection.GetTable<InserterRow>().Single(i => i.Id == written).Name);
        Assert.Equal("by linq2db", statements.Scalar("SELECT name FROM inserters WHERE id = @p0", read));
        using var rows = statements.Read("SELECT id FROM inserters ORDER BY name");
        Assert.True(rows.HasRows);
        Assert.True(rows.Read());
        Assert.Equal(read, rows.GetGuid(0));
        Assert.True(rows.Read());
        Assert.Equal(written, rows.GetGuid(0));
        Assert.False(rows.Read());
    }

    /// <summary>An empty span pins to a null pointer, for which SQLite would bind NULL: "" and no bytes must stay values.</summary>
    [Fact]
    public void Empty_text_and_empty_bytes_are_values_not_null()
    {
        using var state = StateDatabase.Open(Options);
        var statements = PreparedStatements.Of(state.Connection);

        statements.Execute("INSERT INTO executed_blocks (height, block_id, app_hash) VALUES (@p0, @p1, @p2)", 1L, Array.Empty<byte>(), new byte[] { 7 });
        statements.Execute("INSERT INTO transaction_results (height, position, tx_hash, code, log) VALUES (@p0, @p1, @p2, @p3, @p4)", 1L, 0, new byte[32], 0, "");

        Assert.Equal(Array.Empty<byte>(), statements.Scalar("SELECT block_id FROM executed_blocks WHERE height = @p0", 1L));
        Assert.Equal("", statements.Scalar("SELECT log FROM transaction_results WHERE height = @p0", 1L));
        Assert.Null(statements.Scalar("SELECT log FROM transaction_results WHERE height = @p0", 2L));
    }

    [Fact]
    public void Changed_rows_are_counted_and_a_new_row_whose_key_exists_is_not_written()
    {
        using var state = StateDatabase.Open(Options);
        var statements = PreparedStatements.Of(state.Connection);
        var id = Guid.NewGuid();

        Assert.True(statements.TryInsertNew(new InserterRow { Id = id, Name = "first" }));
        Assert.False(statements.TryInsertNew(new InserterRow { Id = id, Name = "second" }));
        Assert.Equal(1, statements.Execute("UPDATE inserters SET name = @p0 WHERE id = @p1", "renamed", id));
        Assert.Equal(0, statements.Execute("UPDATE inserters SET name = @p0 WHERE id = @p1", "renamed", Guid.NewGuid()));
        Assert.Equal("renamed", Assert.Single(state.Connection.GetTable<InserterRow>()).Name);
    }

    [Fact]
    public void A_failing_statement_throws_the_drivers_exception_and_the_connection_goes_on()
    {
        using var state = StateDatabase.Open(Options);
        var statements = PreparedStatements.Of(state.Connection);
        var id = Guid.NewGuid();
        statements.Insert(new InserterRow { Id = id, Name = "taken" });

        Assert.ThrowsAny<DbException>(() => statements.Insert(new InserterRow { Id = Guid.NewGuid(), Name = "taken" }));
        Assert.ThrowsAny<DbException>(() => statements.Execute("SELECT no_such_column FROM inserters"));
        statements.Execute("UPDATE inserters SET name = @p0 WHERE id = @p1", "taken", id);
        Assert.Throws<ArgumentException>(() => statements.Execute("UPDATE inserters SET name = @p0 WHERE id = @p1", "one value"));

        Assert.True(statements.Exists("SELECT 1 FROM inserters WHERE id = @p0", id));
    }

    [Fact]
    public void Statements_run_inside_the_connections_transaction_and_roll_back_with_it()
    {
        using var state = StateDatabase.Open(Options);
        var statements = PreparedStatements.Of(state.Connection);
        using (state.Connection.BeginTransaction())
        {
            statements.Insert(new InserterRow { Id = Guid.NewGuid(), Name = "undone" });
            Assert.Equal(1L, Convert.ToInt64(statements.Scalar("SELECT count(*) FROM inserters"), System.Globalization.CultureInfo.InvariantCulture));
        }

        Assert.Empty(state.Connection.GetTable<InserterRow>());
    }
}

[Trait("Category", "Unit")]
public sealed class SqlitePreparedStatementsTests : PreparedStatementsTests<SqliteTestFile>
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("idos-statements-");

    /// <summary>SQLite keeps a database file open for as long as any statement prepared on it lives.</summary>
    [Fact]
    public void Closing_the_connection_leaves_no_file_open()
    {
        var path = Path.Combine(_dir.FullName, "state.db");
        using (var state = StateDatabase.Open(StateStoreOptions.Sqlite(path)))
        {
            var statements = PreparedStatements.Of(state.Connection);
            statements.Insert(new InserterRow { Id = Guid.NewGuid(), Name = "kept" });
            using var rows = statements.Read("SELECT name FROM inserters");
            Assert.True(rows.Read());
            Assert.Contains(path, OpenFiles());
        }

        Assert.DoesNotContain(path, OpenFiles());
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _dir.Delete(recursive: true);
        }

        base.Dispose(disposing);
    }

    private static List<string> OpenFiles() =>
        [.. new DirectoryInfo("/proc/self/fd").EnumerateFileSystemInfos().Select(fd => fd.LinkTarget).OfType<string>()];
}

[Trait("Category", "Postgres")]
public sealed class PostgresPreparedStatementsTests : PreparedStatementsTests<PostgresTestSchema>;
