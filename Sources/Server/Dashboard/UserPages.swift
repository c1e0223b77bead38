import Foundation

/// Accounts (admin only): the list, disabling and enabling, and a new account.
enum UserPages {
    static func list(_ users: [User], next: HTML, notice: FormOutcome?, session: WebSession, format: DisplayFormat) -> HTML {
        let csrf = DashboardLayout.csrfField(session)
        let rows = users.map { user -> HTML in
            let target = user.status == .active ? UserStatus.disabled : UserStatus.active
            let toggle: HTML =
                user.id == session.identity.userID
                ? "<span class=\"muted\">you</span>"
                : """
                <form method="post" action="/ui/users/\(DashboardLayout.segment(user.id))/status" class="inline">\(csrf)<input type="hidden" name="status" value="\(target.rawValue)"><button type="submit" class="secondary">\(target == .disabled ? "Disable" : "Enable")</button></form>
                """
            return "<tr><td>\(user.email)</td><td>\(user.name)</td><td>\(user.role.rawValue)</td><td>\(user.status.rawValue)</td><td>\(format.time(user.createdAt))</td><td>\(toggle)</td></tr>"
        }
        return """
            <h1>Users</h1>
            \(DashboardLayout.notice(notice))
            <section class="panel">\(DashboardLayout.table(id: "users", ["Email", "Name", "Role", "Status", "Created", ""], rows, empty: "No users."))\(next)</section>
            <section class="panel">
              <h2>New account</h2>
              <form class="inline" method="post" action="/ui/users" id="new-user">
                \(csrf)
                <label for="user-email">Email <input id="user-email" name="email" type="email" required></label>
                <label for="user-name">Name <input id="user-name" name="name" required maxlength="200"></label>
                <label for="user-role">Role <select id="user-role" name="role">\(DashboardLayout.options(Role.allCases.map { (value: $0.rawValue, label: $0.rawValue) }, selected: Role.operator.rawValue))</select></label>
                <label for="user-password">Password <input id="user-password" name="password" type="password" required autocomplete="new-password"></label>
                <button type="submit">Create</button>
              </form>
            </section>
            """
    }
}
