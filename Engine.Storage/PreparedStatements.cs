using System.Data.Common;
using System.Reflection;
using System.Runtime.CompilerServices;
using LinqToDB.Data;
using LinqToDB.Interceptors;
using LinqToDB.Mapping;
using Microsoft.Data.Sqlite;

namespace IdOS.Akka.Engine.Storage;

/// <summary>
/// Commands kept on one connection by their SQL text, so that the driver parses and plans each statement once. A
/// LINQ query through linq2db builds its SQL text again on every execution and the driver prepares that text again
/// (together most of a small write's cost: docs/BENCHMARKS.md); the hot statements of the block store and the state
/// machine run through here instead. Parameters are positional — <c>@p0</c>, <c>@p1</c>, … in the text, values in
/// that order — and the text must be a constant of the caller: the cache keeps every text it is given. On SQLite
/// the statements run on the connection's handle (<see cref="SqliteStatements"/>), elsewhere as ADO.NET commands;
/// either way they are freed when the connection closes.
/// </summary>
public sealed class PreparedStatements : IDisposable
{
    private static readonly ConditionalWeakTable<DataConnection, PreparedStatements> ByConnection = [];
    private static readonly string[] Names = [.. Enumerable.Range(0, 32).Select(i => $"@p{i}")];
    private readonly DataConnection _db;
    private readonly Dictionary<string, DbCommand> _commands = new(StringComparer.Ordinal);
    private DbConnection? _connection;
    private SqliteStatements? _sqlite;

    private PreparedStatements(DataConnection db) => _db = db;

    /// <summary>The statements of <paramref name="db"/>; they go when it closes.</summary>
    public static PreparedStatements Of(DataConnection db)
    {
        ArgumentNullException.ThrowIfNull(db);
        return ByConnection.GetValue(db, connection =>
        {
            var statements = new PreparedStatements(connection);
            connection.AddInterceptor(new ReleaseOnClose(statements));
            return statements;
        });
    }

    /// <summary>The name of the <paramref name="index"/>th value in a statement's text.</summary>
    public static string ParameterName(int index) => index < Names.Length ? Names[index] : $"@p{index}";

    public int Execute(string sql, params ReadOnlySpan<object?> values) =>
        Sqlite() is { } sqlite ? sqlite.Execute(sql, values) : Bind(sql, values).ExecuteNonQuery();

    /// <summary>The first column of the first row; null when there is no row or the value is NULL.</summary>
    public object? Scalar(string sql, params ReadOnlySpan<object?> values) =>
        Sqlite() is { } sqlite ? sqlite.Scalar(sql, values)
        : Bind(sql, values).ExecuteScalar() is { } value and not DBNull ? value : null;

    /// <summary>Whether the query returns a row.</summary>
    public bool Exists(string sql, params ReadOnlySpan<object?> values)
    {
        using var reader = Read(sql, values);
        return reader.Read();
    }

    /// <summary>The rows of the query; dispose the reader before the next statement on this connection.</summary>
    public DbDataReader Read(string sql, params ReadOnlySpan<object?> values) =>
        Sqlite() is { } sqlite ? sqlite.Read(sql, values) : Bind(sql, values).ExecuteReader();

    /// <summary>Inserts a row of a mapped table (linq2db's Table and Column attributes), every column given.</summary>
    public void Insert<T>(T row)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(row);
        Execute(Mapped<T>.InsertSql, Mapped<T>.ValuesOf(row));
    }

    /// <summary>
    /// Inserts a row of a mapped table with a one-column primary key unless a row has its key; false, writing
    /// nothing, if one has. One statement where a check and an insert took two.
    /// </summary>
    public bool TryInsertNew<T>(T row)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(row);
        return Execute(Mapped<T>.InsertNewSql ?? throw new InvalidOperationException($"{typeof(T).Name} has no one-column primary key."), Mapped<T>.ValuesOf(row)) == 1;
    }

    /// <summary>Whether a row of a mapped table with a one-column primary key has the key <paramref name="key"/>.</summary>
    public bool ExistsWithKey<T>(object key)
        where T : class =>
        Exists(Mapped<T>.ExistsSql ?? throw new InvalidOperationException($"{typeof(T).Name} has no one-column primary key."), key);

    /// <summary>The statements on the SQLite handle, prepared again if linq2db opened a new connection; null on other databases.</summary>
    private SqliteStatements? Sqlite()
    {
        if (_db.OpenDbConnection() is not SqliteConnection connection)
        {
            return null;
        }

        if (_sqlite is null || !_sqlite.Serves(connection))
        {
            _sqlite?.Dispose();
            _sqlite = new SqliteStatements(connection);
        }

        return _sqlite;
    }

    /// <summary>Frees the statements now; they are prepared again if used again.</summary>
    public void Dispose() => Release();

    /// <summary>Finalizes every statement, before the connection closes: SQLite keeps a file open while any is left.</summary>
    private void Release()
    {
        _sqlite?.Dispose();
        _sqlite = null;
        foreach (var command in _commands.Values)
        {
            command.Dispose();
        }

        _commands.Clear();
        _connection = null;
    }

    private DbCommand Bind(string sql, ReadOnlySpan<object?> values)
    {
        ArgumentNullException.ThrowIfNull(sql);
        var connection = _db.OpenDbConnection();
        if (!ReferenceEquals(connection, _connection))
        {
            // linq2db opened a new connection (after a failure, say): commands of the old one cannot run on it.
            Release();
            _connection = connection;
        }

        if (!_commands.TryGetValue(sql, out var command))
        {
            command = connection.CreateCommand();
            command.CommandText = sql;
            for (var i = 0; i < values.Length; i++)
            {
                var parameter = command.CreateParameter();
                parameter.ParameterName = ParameterName(i);
                command.Parameters.Add(parameter);
            }

            _commands[sql] = command;
        }

        if (command.Parameters.Count != values.Length)
        {
            throw new ArgumentException($"The statement takes {command.Parameters.Count} values, {values.Length} were given: {sql}", nameof(values));
        }

        command.Transaction = _db.Transaction;
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters[i].Value = values[i] ?? DBNull.Value;
        }

        return command;
    }

    private sealed class ReleaseOnClose(PreparedStatements statements) : DataContextInterceptor
    {
        public override void OnClosing(DataContextEventData eventData) => statements.Release();

        public override Task OnClosingAsync(DataContextEventData eventData)
        {
            statements.Release();
            return Task.CompletedTask;
        }
    }

    private static class Mapped<T>
    {
        public static readonly PropertyInfo[] Columns = [.. typeof(T).GetProperties().Where(p => p.GetCustomAttribute<ColumnAttribute>() is not null)];

        private static readonly string Table = typeof(T).GetCustomAttribute<TableAttribute>()?.Name
            ?? throw new InvalidOperationException($"{typeof(T).Name} is not a mapped table.");

        public static readonly string InsertSql =
            $"INSERT INTO {Table} ({string.Join(", ", Columns.Select(ColumnName))}) VALUES ({string.Join(", ", Columns.Select((_, i) => $"@p{i}"))})";

        private static readonly string? Key = Columns.Where(c => c.GetCustomAttribute<PrimaryKeyAttribute>() is not null).ToList() is [var key]
            ? ColumnName(key)
            : null;

        public static readonly string? ExistsSql = Key is null ? null : $"SELECT 1 FROM {Table} WHERE {Key} = @p0";

        public static readonly string? InsertNewSql = Key is null ? null : $"{InsertSql} ON CONFLICT ({Key}) DO NOTHING";

        public static object?[] ValuesOf(T row)
        {
            var values = new object?[Columns.Length];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = Columns[i].GetValue(row);
            }

            return values;
        }

        private static string ColumnName(PropertyInfo property) => property.GetCustomAttribute<ColumnAttribute>()!.Name!;
    }
}
