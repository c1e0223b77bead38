/// The sign-in form.
enum SignInPage {
    static func render(next: String?, problem: String?, email: String = "") -> HTML {
        DashboardLayout.page(
            title: "Sign in", current: nil, session: nil, live: false,
            """
            <div class="login">
              <h1>Sign in</h1>
              \(problem.map { DashboardLayout.notice($0, ok: false) } ?? .empty)
              <form method="post" action="/ui/login">
                <input type="hidden" name="next" value="\(next ?? "/ui")">
                <label for="email">Email <input id="email" name="email" type="email" autocomplete="username" required value="\(email)"></label>
                <label for="password">Password <input id="password" name="password" type="password" autocomplete="current-password" required></label>
                <button type="submit">Sign in</button>
              </form>
            </div>
            """)
    }
}
