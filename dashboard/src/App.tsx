import { QueryClientProvider, type QueryClient } from "@tanstack/react-query";
import { createBrowserRouter, RouterProvider, type RouteObject } from "react-router";
import { AuthProvider } from "./auth/AuthProvider";
import { AnonymousOnly, RequireAuth } from "./auth/guards";
import { AuthLayout, Layout } from "./components/Layout";
import { AccountPage } from "./pages/AccountPage";
import { ChannelDetailPage, NewChannelPage } from "./pages/channels/ChannelPages";
import { ChannelsPage } from "./pages/channels/ChannelsPage";
import { DeliveriesPage } from "./pages/deliveries/DeliveriesPage";
import { PluginsPage } from "./pages/PluginsPage";
import { NewRulePage, RuleDetailPage } from "./pages/rules/RulePages";
import { RulesPage } from "./pages/rules/RulesPage";
import { EndpointDetailPage } from "./pages/endpoints/EndpointDetailPage";
import { EndpointsPage } from "./pages/endpoints/EndpointsPage";
import { ForgotPasswordPage } from "./pages/ForgotPasswordPage";
import { HomePage } from "./pages/HomePage";
import { LoginPage } from "./pages/LoginPage";
import { MessageDetailPage } from "./pages/messages/MessageDetailPage";
import { MessagesPage } from "./pages/messages/MessagesPage";
import { NotFoundPage } from "./pages/NotFoundPage";
import { ResetPasswordPage } from "./pages/ResetPasswordPage";
import { SignupPage } from "./pages/SignupPage";
import { VerifyEmailPage } from "./pages/VerifyEmailPage";

export const routes: RouteObject[] = [
  {
    element: <AuthLayout />,
    children: [
      {
        element: <AnonymousOnly />,
        children: [
          { path: "/login", element: <LoginPage /> },
          { path: "/forgot-password", element: <ForgotPasswordPage /> },
        ],
      },
      // Sends signed-in users home itself, except right after signing up there.
      { path: "/signup", element: <SignupPage /> },
      // Links from e-mails work whether or not the user is signed in.
      { path: "/verify-email", element: <VerifyEmailPage /> },
      { path: "/reset-password", element: <ResetPasswordPage /> },
    ],
  },
  {
    element: <RequireAuth />,
    children: [
      {
        element: <Layout />,
        children: [
          { path: "/", element: <HomePage /> },
          { path: "/messages", element: <MessagesPage /> },
          { path: "/messages/:id", element: <MessageDetailPage /> },
          { path: "/deliveries", element: <DeliveriesPage /> },
          { path: "/endpoints", element: <EndpointsPage /> },
          { path: "/endpoints/:id", element: <EndpointDetailPage /> },
          { path: "/channels", element: <ChannelsPage /> },
          { path: "/channels/new", element: <NewChannelPage /> },
          { path: "/channels/:id", element: <ChannelDetailPage /> },
          { path: "/rules", element: <RulesPage /> },
          { path: "/rules/new", element: <NewRulePage /> },
          { path: "/rules/:id", element: <RuleDetailPage /> },
          { path: "/plugins", element: <PluginsPage /> },
          { path: "/account", element: <AccountPage /> },
        ],
      },
    ],
  },
  { path: "*", element: <NotFoundPage /> },
];

let browserRouter: ReturnType<typeof createBrowserRouter> | undefined;

export function App({ queryClient, router }: { queryClient: QueryClient; router?: ReturnType<typeof createBrowserRouter> }) {
  router ??= browserRouter ??= createBrowserRouter(routes);
  return (
    <QueryClientProvider client={queryClient}>
      <AuthProvider>
        <RouterProvider router={router} />
      </AuthProvider>
    </QueryClientProvider>
  );
}
