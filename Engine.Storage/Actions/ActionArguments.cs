using System.Buffers.Binary;
using System.Text;
using IdOS.Akka.Engine.Kwil.Catalog;
using IdOS.Akka.Engine.Kwil.Results;
using IdOS.Akka.Engine.Kwil.Transactions;

namespace IdOS.Akka.Engine.Storage.Actions;

/// <summary>
/// An action's arguments checked against its parameters, as Kwil casts them: a text that spells a UUID is accepted
/// for a uuid parameter (the client sends UUID-looking strings as uuid, other callers may not). Any mismatch is a
/// failed transaction naming the parameter.
/// </summary>
public sealed class ActionArguments
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly IReadOnlyList<ActionParameter> _parameters;
    private readonly IReadOnlyList<KwilValue> _values;

    public ActionArguments(string action, IReadOnlyList<ActionParameter> parameters, IReadOnlyList<KwilValue> values)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(values);
        if (parameters.Count != values.Count)
        {
            throw new ActionFailedException(ActionError.BadArguments, $"{action} takes {parameters.Count} arguments, got {values.Count}");
        }

        _parameters = parameters;
        _values = values;
        for (var i = 0; i < values.Count; i++)
        {
            var value = values[i];
            if (value.Type.IsArray || value.Elements.Count != 1)
            {
                throw Bad(i, "must be a single value, not an array");
            }

            if (value.Elements[0] is null && !parameters[i].Nullable && parameters[i].Type != "text")
            {
                throw Bad(i, "must not be NULL");
            }
        }
    }

    public Guid Uuid(int index) => NullableUuid(index) ?? throw Bad(index, "must not be NULL");

    public Guid? NullableUuid(int index)
    {
        var (value, raw) = Element(index, "uuid");
        return raw switch
        {
            null => null,
            _ when value.Type.Name == "uuid" && raw.Length == 16 => new Guid(raw, bigEndian: true),
            _ when value.Type.Name == "text" && Guid.TryParseExact(Encoding.UTF8.GetString(raw), "D", out var parsed) => parsed,
            _ => throw Bad(index, "must be a UUID"),
        };
    }

    /// <summary>Text; NULL reads as null (schema.sql's text parameters accept NULL unless a check says otherwise).</summary>
    public string? Text(int index)
    {
        var (value, raw) = Element(index, "text");
        return raw switch
        {
            null => null,
            _ when value.Type.Name == "text" => StorableText(index, raw),
            _ when value.Type.Name == "uuid" && raw.Length == 16 => new Guid(raw, bigEndian: true).ToString("D"),
            _ => throw Bad(index, $"must be text, got {value.Type.Name}"),
        };
    }

    public string RequiredText(int index) => Text(index) ?? throw Bad(index, "must not be NULL");

    public long WholeNumber(int index) => NullableWholeNumber(index) ?? throw Bad(index, "must not be NULL");

    public long? NullableWholeNumber(int index)
    {
        var (value, raw) = Element(index, "int8");
        return raw switch
        {
            null => null,
            _ when value.Type.Name == "int8" && raw.Length == 8 => BinaryPrimitives.ReadInt64BigEndian(raw),
            _ => throw Bad(index, $"must be int8, got {value.Type.Name}"),
        };
    }

    /// <summary>
    /// Text both databases store alike: valid UTF-8 without NUL. PostgreSQL refuses both and SQLite would keep them,
    /// so letting them through would stop PostgreSQL validators, or make them disagree with SQLite ones.
    /// </summary>
    private string StorableText(int index, byte[] raw)
    {
        string text;
        try
        {
            text = StrictUtf8.GetString(raw);
        }
        catch (DecoderFallbackException)
        {
            throw Bad(index, "is not valid UTF-8");
        }

        return text.Contains('\0', StringComparison.Ordinal) ? throw Bad(index, "contains a NUL character") : text;
    }

    private (KwilValue Value, byte[]? Raw) Element(int index, string expected)
    {
        if (!string.Equals(_parameters[index].Type, expected, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"parameter {_parameters[index].Name} is declared {_parameters[index].Type}, read as {expected}");
        }

        return (_values[index], _values[index].Elements[0]);
    }

    private ActionFailedException Bad(int index, string problem) =>
        new(ActionError.BadArguments, $"argument {index + 1} ({_parameters[index].Name}) {problem}");
}
