using Akka.Configuration;
using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting;
using Serilog.Formatting.Compact;
using Serilog.Formatting.Display;

namespace IdOS.Akka.Engine.Hosting;

/// <summary>
/// How a node process writes its log to standard output: `text` (the default) as Akka writes it, with the run
/// command's own lines as plain text; `json`, one JSON object per line for every event (Serilog's compact format with
/// the rendered message: `@t`, `@m`, `@l` when not Information, the properties, `@x` with an exception), Akka's events
/// through Akka.Logger.Serilog, so that a log shipper reads them without parsing. The level is akka.loglevel either way.
/// Messages name validators, heights, rounds and hashes; none carries a transaction's payload or a user's address.
/// </summary>
public static class NodeLogging
{
    public const string FormatKey = "idos.node.log-format";

    /// <summary>
    /// Sets up the process's logging for <paramref name="format"/> (or the configuration's): returns the configuration
    /// the actor system must start with and the logger for the command's own lines, both writing to <paramref name="output"/>.
    /// </summary>
    public static (Config Config, ILogger Lines) Configure(Config config, string? format, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(output);
        format = string.IsNullOrEmpty(format) ? config.GetString(FormatKey, "text") : format;
        var level = LevelOf(config.GetString("akka.loglevel", "INFO"));
        switch (format)
        {
            case "text":
                var text = new MessageTemplateTextFormatter("{Message:l}{NewLine}", System.Globalization.CultureInfo.InvariantCulture);
                return (config, new LoggerConfiguration().MinimumLevel.Verbose().WriteTo.Sink(new WriterSink(text, output)).CreateLogger());
            case "json":
                var json = new LoggerConfiguration().MinimumLevel.Is(level).WriteTo.Sink(new WriterSink(new RenderedCompactJsonFormatter(), output)).CreateLogger();
                Log.Logger = json;
                if (ReferenceEquals(output, Console.Out))
                {
                    // Akka writes a few lines straight to the console once its loggers have stopped (at shutdown):
                    // those become JSON events too, so that every line on standard output is one.
                    Console.SetOut(new StrayLines(json.ForContext("SourceContext", "console")));
                }

                // Akka's own start-up lines would otherwise go to standard output as text before its loggers start.
                return (ConfigurationFactory.ParseString("""
                    akka.loggers = ["Akka.Logger.Serilog.SerilogLogger, Akka.Logger.Serilog"]
                    akka.logger-formatter = "Akka.Logger.Serilog.SerilogLogMessageFormatter, Akka.Logger.Serilog"
                    akka.stdout-loglevel = OFF
                    """).WithFallback(config), json.ForContext("SourceContext", "run"));
            default:
                throw new ConfigurationException($"{FormatKey} is \"{format}\"; it is text (the default) or json.");
        }
    }

    /// <summary>One event at a time onto the writer, flushed, so that lines from the actors' threads never interleave.</summary>
    private sealed class WriterSink(ITextFormatter formatter, TextWriter output) : ILogEventSink
    {
        private readonly Lock _gate = new();

        public void Emit(LogEvent logEvent)
        {
            lock (_gate)
            {
                formatter.Format(logEvent, output);
                output.Flush();
            }
        }
    }

    /// <summary>Whatever else writes to the console, a line at a time, as Information events of the JSON log.</summary>
    private sealed class StrayLines(ILogger log) : TextWriter
    {
        private readonly System.Text.StringBuilder _line = new();

        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;

        public override void Write(char value)
        {
            lock (_line)
            {
                if (value == '\n')
                {
                    log.Information("{Line:l}", _line.ToString().TrimEnd('\r'));
                    _line.Clear();
                }
                else
                {
                    _line.Append(value);
                }
            }
        }
    }

    private static LogEventLevel LevelOf(string akkaLevel) => akkaLevel.ToUpperInvariant() switch
    {
        "DEBUG" => LogEventLevel.Debug,
        "INFO" => LogEventLevel.Information,
        "WARNING" => LogEventLevel.Warning,
        "ERROR" => LogEventLevel.Error,
        "OFF" => LogEventLevel.Fatal,
        _ => throw new ConfigurationException($"akka.loglevel is \"{akkaLevel}\"; it is DEBUG, INFO, WARNING, ERROR or OFF."),
    };
}
