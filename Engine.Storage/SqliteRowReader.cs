using System.Collections;
using System.Data.Common;
using SQLitePCL;

namespace IdOS.Akka.Engine.Storage;

/// <summary>
/// The rows of one prepared SQLite statement, read column by column from the handle. One instance serves its
/// statement for as long as the statement lives; disposing it resets the statement for the next execution. Values
/// read as the ADO.NET driver reads them: a 16-byte BLOB or a UUID's text as a <see cref="Guid"/>, integers as
/// <see cref="long"/>, NULL as <see cref="DBNull"/>.
/// </summary>
internal sealed class SqliteRowReader(SqliteStatements statements, sqlite3_stmt handle) : DbDataReader
{
    private bool _hasRows;
    private bool _first;
    private bool _onRow;

    public bool IsOpen { get; private set; }

    public override int FieldCount => raw.sqlite3_column_count(handle);

    public override bool HasRows => _hasRows;

    public override bool IsClosed => !IsOpen;

    public override int RecordsAffected => -1;

    public override int Depth => 0;

    public override object this[int ordinal] => GetValue(ordinal);

    public override object this[string name] => GetValue(GetOrdinal(name));

    /// <summary>The statement has just been stepped once; <paramref name="hasRow"/> says whether that gave a row.</summary>
    internal void Open(bool hasRow)
    {
        IsOpen = true;
        _hasRows = hasRow;
        _first = true;
        _onRow = false;
    }

    public override bool Read()
    {
        if (!IsOpen)
        {
            throw new InvalidOperationException("The reader is closed.");
        }

        if (_first)
        {
            _first = false;
            _onRow = _hasRows;
            return _onRow;
        }

        _onRow = _onRow && statements.Step(handle, first: false) == raw.SQLITE_ROW;
        return _onRow;
    }

    public override bool NextResult() => false;

    /// <summary>Resets the statement for its next execution (disposing closes): the reader itself is kept with it.</summary>
    public override void Close()
    {
        if (IsOpen)
        {
            IsOpen = false;
            _onRow = false;
            raw.sqlite3_reset(handle);
        }
    }

    public override bool IsDBNull(int ordinal) => ColumnType(ordinal) == raw.SQLITE_NULL;

    public override object GetValue(int ordinal)
    {
        Row();
        return ValueOf(handle, ordinal) ?? DBNull.Value;
    }

    public override int GetValues(object[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var count = Math.Min(values.Length, FieldCount);
        for (var i = 0; i < count; i++)
        {
            values[i] = GetValue(i);
        }

        return count;
    }

    public override string GetString(int ordinal) => ColumnType(ordinal) == raw.SQLITE_NULL
        ? throw new InvalidCastException($"Column {ordinal} is NULL.")
        : raw.sqlite3_column_text(handle, ordinal).utf8_to_string();

    /// <summary>
    /// A TEXT value's UTF-8 bytes as SQLite holds them, without a string between; valid until the next row. (Read as
    /// a BLOB, a TEXT value gives its bytes unconverted in a UTF-8 database, which every node's is.)
    /// </summary>
    public ReadOnlySpan<byte> GetUtf8(int ordinal) => ColumnType(ordinal) == raw.SQLITE_TEXT
        ? raw.sqlite3_column_blob(handle, ordinal)
        : throw new InvalidCastException($"Column {ordinal} is not TEXT.");

    public override long GetInt64(int ordinal) => ColumnType(ordinal) == raw.SQLITE_NULL
        ? throw new InvalidCastException($"Column {ordinal} is NULL.")
        : raw.sqlite3_column_int64(handle, ordinal);

    public override int GetInt32(int ordinal) => checked((int)GetInt64(ordinal));

    public override short GetInt16(int ordinal) => checked((short)GetInt64(ordinal));

    public override byte GetByte(int ordinal) => checked((byte)GetInt64(ordinal));

    public override bool GetBoolean(int ordinal) => GetInt64(ordinal) != 0;

    public override double GetDouble(int ordinal) => ColumnType(ordinal) == raw.SQLITE_NULL
        ? throw new InvalidCastException($"Column {ordinal} is NULL.")
        : raw.sqlite3_column_double(handle, ordinal);

    public override float GetFloat(int ordinal) => (float)GetDouble(ordinal);

    public override decimal GetDecimal(int ordinal) => (decimal)GetDouble(ordinal);

    public override Guid GetGuid(int ordinal) => ColumnType(ordinal) switch
    {
        raw.SQLITE_BLOB when raw.sqlite3_column_blob(handle, ordinal) is { Length: 16 } bytes => new Guid(bytes),
        raw.SQLITE_TEXT => Guid.Parse(GetString(ordinal)),
        var type => throw new InvalidCastException($"Column {ordinal} ({TypeName(type)}) is not a UUID."),
    };

    public override long GetBytes(int ordinal, long dataOffset, byte[]? buffer, int bufferOffset, int length)
    {
        var bytes = raw.sqlite3_column_blob(handle, ordinal);
        if (buffer is null)
        {
            return bytes.Length;
        }

        if (dataOffset >= bytes.Length)
        {
            return 0;
        }

        var count = Math.Min(length, bytes.Length - (int)dataOffset);
        bytes.Slice((int)dataOffset, count).CopyTo(buffer.AsSpan(bufferOffset));
        return count;
    }

    public override char GetChar(int ordinal) => GetString(ordinal)[0];

    public override long GetChars(int ordinal, long dataOffset, char[]? buffer, int bufferOffset, int length)
    {
        var text = GetString(ordinal);
        if (buffer is null)
        {
            return text.Length;
        }

        if (dataOffset >= text.Length)
        {
            return 0;
        }

        var count = Math.Min(length, text.Length - (int)dataOffset);
        text.AsSpan((int)dataOffset, count).CopyTo(buffer.AsSpan(bufferOffset));
        return count;
    }

    public override DateTime GetDateTime(int ordinal) =>
        throw new NotSupportedException("No column of the node's schema is a date; times are stored as integers.");

    public override string GetName(int ordinal) => raw.sqlite3_column_name(handle, ordinal).utf8_to_string();

    public override int GetOrdinal(string name)
    {
        for (var i = 0; i < FieldCount; i++)
        {
            if (string.Equals(GetName(i), name, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        throw new ArgumentOutOfRangeException(nameof(name), $"No column is named {name}.");
    }

    public override string GetDataTypeName(int ordinal) => TypeName(ColumnType(ordinal));

    public override Type GetFieldType(int ordinal) => ColumnType(ordinal) switch
    {
        raw.SQLITE_INTEGER => typeof(long),
        raw.SQLITE_FLOAT => typeof(double),
        raw.SQLITE_BLOB => typeof(byte[]),
        _ => typeof(string),
    };

    public override IEnumerator GetEnumerator() => new DbEnumerator(this, closeReader: false);

    /// <summary>The column's value as the driver gives it; null for NULL.</summary>
    internal static object? ValueOf(sqlite3_stmt handle, int ordinal) => raw.sqlite3_column_type(handle, ordinal) switch
    {
        raw.SQLITE_INTEGER => raw.sqlite3_column_int64(handle, ordinal),
        raw.SQLITE_FLOAT => raw.sqlite3_column_double(handle, ordinal),
        raw.SQLITE_TEXT => raw.sqlite3_column_text(handle, ordinal).utf8_to_string(),
        raw.SQLITE_BLOB => raw.sqlite3_column_blob(handle, ordinal).ToArray(),
        _ => null,
    };

    private int ColumnType(int ordinal)
    {
        Row();
        return raw.sqlite3_column_type(handle, ordinal);
    }

    private void Row()
    {
        if (!_onRow)
        {
            throw new InvalidOperationException("The reader is not on a row.");
        }
    }

    private static string TypeName(int type) => type switch
    {
        raw.SQLITE_INTEGER => "INTEGER",
        raw.SQLITE_FLOAT => "REAL",
        raw.SQLITE_TEXT => "TEXT",
        raw.SQLITE_BLOB => "BLOB",
        _ => "NULL",
    };
}
