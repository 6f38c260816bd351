using System.Buffers;
using System.Diagnostics;
using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace IdOS.Akka.Engine.Storage;

/// <summary>
/// Prepared statements run straight on a SQLite connection's handle. Through the ADO.NET driver every execution
/// allocated a reader, its records, an iterator and a binder per parameter, and encoded each parameter's name and
/// each text value into a new array: about 550 bytes and half a microsecond per statement, some 6 KB of the 16 KB a
/// 1 KiB idOS write allocated in execution before this class. Here a statement is bound from spans, stepped and
/// reset, and nothing is allocated but what a caller reads out. Values bind as the ADO.NET driver binds them
/// (integers as INTEGER, a <see cref="Guid"/> as its 16 bytes in .NET order, as linq2db stores it, text as UTF-8),
/// so rows written either way read back alike.
/// </summary>
internal sealed class SqliteStatements : IDisposable
{
    private static readonly TimeSpan BusyTimeout = TimeSpan.FromSeconds(30);
    private readonly sqlite3 _db;
    private readonly Dictionary<string, Statement> _statements = new(StringComparer.Ordinal);
    private readonly ArrayBufferWriter<byte> _text = new();

    public SqliteStatements(SqliteConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _db = connection.Handle ?? throw new InvalidOperationException("The SQLite connection is not open.");
    }

    /// <summary>Whether these statements were prepared on <paramref name="connection"/>'s current handle.</summary>
    public bool Serves(SqliteConnection connection) => ReferenceEquals(connection.Handle, _db);

    public int Execute(string sql, ReadOnlySpan<object?> values)
    {
        var statement = Bound(sql, values);
        try
        {
            if (Step(statement.Handle, first: true) == raw.SQLITE_ROW)
            {
                while (Step(statement.Handle, first: false) == raw.SQLITE_ROW)
                {
                }
            }

            return raw.sqlite3_stmt_readonly(statement.Handle) != 0 ? -1 : raw.sqlite3_changes(_db);
        }
        finally
        {
            raw.sqlite3_reset(statement.Handle);
        }
    }

    public object? Scalar(string sql, ReadOnlySpan<object?> values)
    {
        var statement = Bound(sql, values);
        try
        {
            return Step(statement.Handle, first: true) == raw.SQLITE_ROW ? SqliteRowReader.ValueOf(statement.Handle, 0) : null;
        }
        finally
        {
            raw.sqlite3_reset(statement.Handle);
        }
    }

    /// <summary>The rows of the statement, read by its one reader: dispose it before the statement runs again.</summary>
    public SqliteRowReader Read(string sql, ReadOnlySpan<object?> values)
    {
        var statement = Bound(sql, values);
        if (statement.Reader.IsOpen)
        {
            raw.sqlite3_reset(statement.Handle);
            throw new InvalidOperationException($"The rows of this statement are still being read: {sql}");
        }

        statement.Reader.Open(Step(statement.Handle, first: true) == raw.SQLITE_ROW);
        return statement.Reader;
    }

    public void Dispose()
    {
        foreach (var statement in _statements.Values)
        {
            statement.Handle.Dispose();
        }

        _statements.Clear();
    }

    /// <summary>
    /// One step. On the <paramref name="first"/> step of an execution, a database another connection holds busy is
    /// retried for up to 30 s, as the ADO.NET driver does (a WAL checkpoint on another connection can hold it
    /// briefly); a later step is never retried, since starting over would return rows again. Any other failure is a
    /// <see cref="SqliteException"/>, which callers already handle as the driver's.
    /// </summary>
    internal int Step(sqlite3_stmt handle, bool first)
    {
        long? started = null;
        while (true)
        {
            var rc = raw.sqlite3_step(handle);
            if (rc is raw.SQLITE_ROW or raw.SQLITE_DONE)
            {
                return rc;
            }

            var primary = rc & 0xFF;
            if (first && primary is raw.SQLITE_BUSY or raw.SQLITE_LOCKED)
            {
                started ??= Stopwatch.GetTimestamp();
                if (Stopwatch.GetElapsedTime(started.Value) < BusyTimeout)
                {
                    raw.sqlite3_reset(handle);
                    Thread.Sleep(1);
                    continue;
                }
            }

            var message = raw.sqlite3_errmsg(_db).utf8_to_string();
            var extended = raw.sqlite3_extended_errcode(_db);
            raw.sqlite3_reset(handle);
            throw new SqliteException($"SQLite Error {primary}: '{message}'.", primary, extended);
        }
    }

    private Statement Bound(string sql, ReadOnlySpan<object?> values)
    {
        ArgumentNullException.ThrowIfNull(sql);
        if (!_statements.TryGetValue(sql, out var statement))
        {
            statement = Prepare(sql, values.Length);
            _statements[sql] = statement;
        }

        if (statement.Parameters.Length != values.Length)
        {
            throw new ArgumentException($"The statement takes {statement.Parameters.Length} values, {values.Length} were given: {sql}", nameof(values));
        }

        for (var i = 0; i < values.Length; i++)
        {
            Bind(statement.Handle, statement.Parameters[i], values[i]);
        }

        return statement;
    }

    private Statement Prepare(string sql, int count)
    {
        var rc = raw.sqlite3_prepare_v2(_db, sql, out var handle);
        if (rc != raw.SQLITE_OK)
        {
            var message = raw.sqlite3_errmsg(_db).utf8_to_string();
            handle?.Dispose();
            throw new SqliteException($"SQLite Error {rc}: '{message}'.", rc, raw.sqlite3_extended_errcode(_db));
        }

        var takes = raw.sqlite3_bind_parameter_count(handle);
        if (takes != count)
        {
            handle.Dispose();
            throw new ArgumentException($"The statement takes {takes} values, {count} were given: {sql}");
        }

        var parameters = new int[count];
        for (var i = 0; i < count; i++)
        {
            parameters[i] = raw.sqlite3_bind_parameter_index(handle, PreparedStatements.ParameterName(i));
            if (parameters[i] == 0)
            {
                handle.Dispose();
                throw new ArgumentException($"The statement has no parameter {PreparedStatements.ParameterName(i)}: {sql}");
            }
        }

        return new Statement(handle, parameters, new SqliteRowReader(this, handle));
    }

    private void Bind(sqlite3_stmt handle, int index, object? value)
    {
        var rc = value switch
        {
            null or DBNull => raw.sqlite3_bind_null(handle, index),
            // SQLite binds NULL for a null pointer, which is what an empty span pins to.
            "" => raw.sqlite3_bind_text(handle, index, string.Empty),
            string text => BindText(handle, index, text),
            byte[] { Length: 0 } => raw.sqlite3_bind_zeroblob(handle, index, 0),
            byte[] bytes => raw.sqlite3_bind_blob(handle, index, bytes),
            Guid uuid => BindUuid(handle, index, uuid),
            long number => raw.sqlite3_bind_int64(handle, index, number),
            int number => raw.sqlite3_bind_int64(handle, index, number),
            bool flag => raw.sqlite3_bind_int64(handle, index, flag ? 1 : 0),
            _ => throw new ArgumentException($"No SQLite binding for a {value.GetType().Name}."),
        };
        if (rc != raw.SQLITE_OK)
        {
            throw new SqliteException($"SQLite Error {rc}: '{raw.sqlite3_errmsg(_db).utf8_to_string()}'.", rc, raw.sqlite3_extended_errcode(_db));
        }
    }

    private int BindText(sqlite3_stmt handle, int index, string text)
    {
        _text.ResetWrittenCount();
        var length = Encoding.UTF8.GetByteCount(text);
        _text.Advance(Encoding.UTF8.GetBytes(text, _text.GetSpan(length)));
        // SQLite copies the bytes (SQLITE_TRANSIENT), so the buffer is free again at once.
        return raw.sqlite3_bind_text(handle, index, _text.WrittenSpan);
    }

    private static int BindUuid(sqlite3_stmt handle, int index, Guid uuid)
    {
        Span<byte> bytes = stackalloc byte[16];
        uuid.TryWriteBytes(bytes);
        return raw.sqlite3_bind_blob(handle, index, bytes);
    }

    private sealed record Statement(sqlite3_stmt Handle, int[] Parameters, SqliteRowReader Reader);
}
