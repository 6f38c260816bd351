using IdOS.Akka.Engine.Kwil.Catalog;
using IdOS.Akka.Engine.Kwil.Results;
using IdOS.Akka.Engine.Kwil.Transactions;
using LinqToDB.Data;

namespace IdOS.Akka.Engine.Storage.Actions;

/// <summary>An action of the catalog with what it does to the state.</summary>
public sealed record ActionDefinition(ActionSignature Signature, Func<ActionScope, ActionArguments, ActionOutcome> Run);

/// <summary>The implementations of the catalog's actions, collected area by area: each exactly once, none outside the catalog.</summary>
public sealed class ActionTable
{
    private readonly Dictionary<string, ActionDefinition> _definitions = new(StringComparer.Ordinal);

    public void Add(string name, Func<ActionScope, ActionArguments, ActionOutcome> run)
    {
        if (!ActionCatalog.All.TryGetValue(name, out var signature))
        {
            throw new InvalidOperationException($"action '{name}' is implemented but not in the catalog");
        }

        if (!_definitions.TryAdd(name, new ActionDefinition(signature, run)))
        {
            throw new InvalidOperationException($"action '{name}' is implemented twice");
        }
    }

    public IReadOnlyDictionary<string, ActionDefinition> Complete()
    {
        var missing = ActionCatalog.All.Keys.Where(name => !_definitions.ContainsKey(name)).Order(StringComparer.Ordinal).ToList();
        return missing.Count == 0
            ? _definitions
            : throw new InvalidOperationException($"catalog actions without an implementation: {string.Join(", ", missing)}");
    }
}

/// <summary>
/// Runs the actions of the idOS schema by name. Each runs inside a savepoint: a refused action leaves no partial
/// change, and the block it is in goes on.
/// </summary>
public static class IdosActions
{
    private static readonly IReadOnlyDictionary<string, ActionDefinition> Registry = Build();

    public static IReadOnlyDictionary<string, ActionDefinition> All => Registry;

    /// <summary>
    /// Runs one call. <paramref name="fromView"/> is set for `user.call`, which may run VIEW actions only. Throws
    /// <see cref="ActionFailedException"/> for any refusal, after undoing whatever the action wrote.
    /// </summary>
    public static ActionOutcome Execute(DataConnection db, ActionContext context, string ns, string action, IReadOnlyList<KwilValue> arguments, bool fromView)
    {
        ArgumentNullException.ThrowIfNull(db);
        var definition = Resolve(ns, action, fromView);
        var ownTransaction = db.Transaction is null;
        using var transaction = ownTransaction ? db.BeginTransaction() : null;
        if (!ownTransaction)
        {
            db.Execute("SAVEPOINT idos_action");
        }

        try
        {
            var outcome = RunUndoneByCaller(db, context, definition, arguments);
            if (ownTransaction)
            {
                transaction!.Commit();
            }
            else
            {
                db.Execute("RELEASE SAVEPOINT idos_action");
            }

            return outcome;
        }
        catch
        {
            if (!ownTransaction)
            {
                db.Execute("ROLLBACK TO SAVEPOINT idos_action");
                db.Execute("RELEASE SAVEPOINT idos_action");
            }

            throw;
        }
    }

    /// <summary>The action a payload names, or the refusal: unknown namespace or action, the token bridge's, a write from a view call.</summary>
    public static ActionDefinition Resolve(string ns, string action, bool fromView)
    {
        ArgumentNullException.ThrowIfNull(action);
        if (!string.Equals(ns, ActionCatalog.Namespace, StringComparison.Ordinal))
        {
            throw new ActionFailedException(ActionError.UnknownAction, $"namespace '{ns}' does not exist; idOS actions are in '{ActionCatalog.Namespace}'");
        }

        if (ActionCatalog.TokenBridgeActions.Contains(action.ToLowerInvariant()))
        {
            throw new ActionFailedException(ActionError.NotSupported,
                $"{action} needs idOS's erc20 token bridge (gas, balances, fees), which this network does not run");
        }

        if (!Registry.TryGetValue(action.ToLowerInvariant(), out var definition))
        {
            throw new ActionFailedException(ActionError.UnknownAction, $"action '{action}' does not exist");
        }

        return fromView && !definition.Signature.IsView
            ? throw new ActionFailedException(ActionError.Unauthorized, $"{definition.Signature.Name} changes state; it can only be sent in a transaction")
            : definition;
    }

    /// <summary>
    /// Runs a resolved action inside the caller's transaction or savepoint, which must undo what it wrote when this
    /// throws: a block's executor holds one savepoint per transaction already, and a second per call would double
    /// the statements of every write.
    /// </summary>
    public static ActionOutcome RunUndoneByCaller(DataConnection db, ActionContext context, ActionDefinition definition, IReadOnlyList<KwilValue> arguments)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var scope = new ActionScope(db, context);
        if (definition.Signature.OwnerOnly)
        {
            scope.RequireOwner(definition.Signature.Name);
        }

        return definition.Run(scope, new ActionArguments(definition.Signature.Name, definition.Signature.Parameters, arguments));
    }

    private static IReadOnlyDictionary<string, ActionDefinition> Build()
    {
        var actions = new ActionTable();
        AdminActions.Register(actions);
        UserActions.Register(actions);
        WalletActions.Register(actions);
        AttributeActions.Register(actions);
        CredentialActions.Register(actions);
        CredentialActions.RegisterEdits(actions);
        SharingActions.Register(actions);
        GrantActions.Register(actions);
        return actions.Complete();
    }
}
