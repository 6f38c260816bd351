using System.Globalization;
using System.Text;

namespace IdOS.Akka.Engine.Tests.Observability;

/// <summary>
/// A strict reader of the Prometheus text exposition format (version 0.0.4), as a scraper reads it: every sample
/// belongs to a family announced by `# TYPE` (histograms' `_bucket`, `_sum` and `_count` to theirs), label values
/// are quoted with `\\`, `\"` and `\n` escapes, values are floats (`+Inf`, `-Inf`, `NaN` included), and a sample
/// appears once. Anything else is refused with the line.
/// </summary>
internal sealed class PrometheusText
{
    private static readonly string[] Types = ["counter", "gauge", "histogram", "summary", "untyped"];

    private readonly Dictionary<string, string> _types = [];
    private readonly Dictionary<string, double> _samples = [];

    /// <summary>Sample keys are the name and sorted labels as written: `name{a="1",b="2"}`, or the bare name.</summary>
    public IReadOnlyDictionary<string, double> Samples => _samples;

    public static PrometheusText Parse(string text)
    {
        var parsed = new PrometheusText();
        var number = 0;
        foreach (var line in text.Split('\n'))
        {
            number++;
            if (line.Length == 0)
            {
                continue;
            }

            try
            {
                parsed.Read(line);
            }
            catch (FormatException e)
            {
                throw new FormatException($"line {number}: {e.Message}: {line}", e);
            }
        }

        return parsed;
    }

    /// <summary>The value of the sample with this name and labels; 0 when it is absent (a labelled counter not yet touched).</summary>
    public double Value(string name, params (string Name, string Value)[] labels) => _samples.GetValueOrDefault(Key(name, labels));

    /// <summary>The type announced for a family.</summary>
    public string? TypeOf(string family) => _types.GetValueOrDefault(family);

    private static string Key(string name, IEnumerable<(string Name, string Value)> labels)
    {
        var sorted = labels.OrderBy(l => l.Name, StringComparer.Ordinal).ToList();
        return sorted.Count == 0 ? name : $"{name}{{{string.Join(",", sorted.Select(l => $"{l.Name}=\"{l.Value}\""))}}}";
    }

    private void Read(string line)
    {
        if (line.StartsWith('#'))
        {
            var parts = line.Split(' ', 4);
            if (parts.Length >= 4 && parts[1] == "TYPE")
            {
                CheckName(parts[2]);
                if (!Types.Contains(parts[3]) || !_types.TryAdd(parts[2], parts[3]))
                {
                    throw new FormatException("a TYPE line names an unknown type or a family a second time");
                }
            }

            return;
        }

        var i = 0;
        var name = ReadName(line, ref i);
        var labels = new List<(string, string)>();
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (i < line.Length && line[i] != '}')
            {
                var label = ReadName(line, ref i);
                Expect(line, ref i, '=');
                labels.Add((label, ReadQuoted(line, ref i)));
                if (i < line.Length && line[i] == ',')
                {
                    i++;
                }
                else if (i >= line.Length || line[i] != '}')
                {
                    throw new FormatException($"expected ',' or '}}' after a label at column {i + 1}");
                }
            }

            Expect(line, ref i, '}');
        }

        Expect(line, ref i, ' ');
        var fields = line[i..].Split(' ');
        if (fields.Length is 0 or > 2)
        {
            throw new FormatException("a sample is a value and an optional timestamp");
        }

        var value = fields[0] switch
        {
            "+Inf" => double.PositiveInfinity,
            "-Inf" => double.NegativeInfinity,
            "NaN" => double.NaN,
            var v => double.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture),
        };
        if (FamilyOf(name) is null)
        {
            throw new FormatException($"sample {name} has no TYPE line before it");
        }

        if (!_samples.TryAdd(Key(name, labels), value))
        {
            throw new FormatException("the same sample twice");
        }
    }

    private string? FamilyOf(string name)
    {
        if (_types.ContainsKey(name))
        {
            return name;
        }

        foreach (var suffix in new[] { "_bucket", "_sum", "_count" })
        {
            if (name.EndsWith(suffix, StringComparison.Ordinal) && _types.TryGetValue(name[..^suffix.Length], out var type) && type is "histogram" or "summary")
            {
                return name[..^suffix.Length];
            }
        }

        return null;
    }

    private static string ReadName(string line, ref int i)
    {
        var start = i;
        while (i < line.Length && (char.IsAsciiLetterOrDigit(line[i]) || line[i] is '_' or ':'))
        {
            i++;
        }

        var name = line[start..i];
        CheckName(name);
        return name;
    }

    private static void CheckName(string name)
    {
        if (name.Length == 0 || char.IsAsciiDigit(name[0]) || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or ':'))
        {
            throw new FormatException($"\"{name}\" is not a metric or label name");
        }
    }

    private static void Expect(string line, ref int i, char expected)
    {
        if (i >= line.Length || line[i] != expected)
        {
            throw new FormatException($"expected '{expected}' at column {i + 1}");
        }

        i++;
    }

    private static string ReadQuoted(string line, ref int i)
    {
        Expect(line, ref i, '"');
        var value = new StringBuilder();
        while (i < line.Length && line[i] != '"')
        {
            if (line[i] == '\\' && i + 1 < line.Length)
            {
                i++;
                value.Append(line[i] switch
                {
                    '\\' => '\\',
                    '"' => '"',
                    'n' => '\n',
                    var other => throw new FormatException($"unknown escape \\{other}"),
                });
            }
            else
            {
                value.Append(line[i]);
            }

            i++;
        }

        Expect(line, ref i, '"');
        return value.ToString();
    }
}
