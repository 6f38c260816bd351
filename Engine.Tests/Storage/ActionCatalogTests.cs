using IdOS.Akka.Engine.Kwil.Catalog;
using IdOS.Akka.Engine.Storage.Actions;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Storage;

/// <summary>The catalog the RPC system answers lookups from and the actions the state machine runs are the same set.</summary>
[Trait("Category", "Unit")]
public sealed class ActionCatalogTests
{
    [Fact]
    public void Every_catalog_action_is_implemented_with_its_signature_and_nothing_else_is()
    {
        Assert.Equal(ActionCatalog.All.Keys.Order(StringComparer.Ordinal), IdosActions.All.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, definition) in IdosActions.All)
        {
            Assert.Same(ActionCatalog.All[name], definition.Signature);
        }

        Assert.DoesNotContain(ActionCatalog.TokenBridgeActions, ActionCatalog.All.ContainsKey);
    }

    [Fact]
    public void An_implementation_outside_the_catalog_or_a_second_one_is_refused_and_a_missing_one_is_named()
    {
        var table = new ActionTable();
        Assert.Throws<InvalidOperationException>(() => table.Add("drop_everything", (_, _) => Kwil.Results.ActionOutcome.None));
        table.Add("get_user", (_, _) => Kwil.Results.ActionOutcome.None);
        Assert.Throws<InvalidOperationException>(() => table.Add("get_user", (_, _) => Kwil.Results.ActionOutcome.None));
        var missing = Assert.Throws<InvalidOperationException>(table.Complete);
        var named = missing.Message[(missing.Message.IndexOf(": ", StringComparison.Ordinal) + 2)..].Split(", ");
        Assert.Equal(ActionCatalog.All.Count - 1, named.Length);
        Assert.DoesNotContain("get_user", named);
    }
}
