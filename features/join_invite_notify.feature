@join-invite-notify
Feature: Join, invite and notify
  A live group call can be joined by its members at any time (after declining, missing it, or
  leaving), and its members can invite more users, who ring like any invitee. A call placed with
  notify (Stream getOrCreate with notify) tells the invitees without ringing; the caller is in the
  call at once and the notified users join when they like.

  Scenario: A user who declined joins later
    Given users alice, bob and carol
    And a group team of alice, bob and carol
    And alice places an audio call in team to bob and carol
    And carol accepts
    And bob declines
    When bob joins
    Then alice and carol see "call-1: bob joined"
    And bob sees nothing more
    And bob's state in the call is joined
    When carol sets custom data "agenda"
    Then alice and bob see "call-1: custom data "agenda" from carol"
    When bob joins
    Then it fails with 422 saying "already in the call"

  Scenario: A user who missed the call joins later
    Given users alice, bob and carol
    And a group team of alice, bob and carol
    And alice places an audio call in team to bob and carol
    And carol accepts
    And 30 seconds pass
    When 10 seconds pass
    And bob joins
    Then alice and carol see "[40s] call-1: bob joined"

  Scenario: A ringing invitee may join instead of accepting; the other devices are detached
    Given users alice and carol
    And user bob with devices phone and tablet
    And a group team of alice, bob and carol
    And alice places an audio call in team to bob and carol
    And carol accepts
    When bob/tablet joins
    Then bob/phone sees "call-1: detached, answered on another device"
    And alice and carol see "call-1: bob joined"
    And bob/tablet sees nothing more

  Scenario: A user who left joins again
    Given users alice, bob and carol
    And a group team of alice, bob and carol
    And alice places an audio call in team to bob and carol
    And bob accepts
    And carol accepts
    And carol hangs up
    When carol joins
    Then alice and bob see "call-1: carol joined"

  Scenario: A 1:1 call cannot be joined
    Given users alice, bob and carol
    And alice calls bob
    When bob joins
    Then it fails with 403 saying "only group calls can be joined"

  Scenario: Members invite more users into a live group call
    Given users alice, bob, carol, dave, erin and frank
    And a group team of alice, bob, carol, dave, erin and frank
    And alice places an audio call in team to bob
    And bob accepts
    And frank calls dave
    And dave accepts
    And erin is offline
    And 2 seconds pass
    When bob invites carol, dave and erin to call-1
    Then the busy invitees are dave
    And the unavailable invitees are erin
    And carol sees "[2s] call-1: incoming group Audio call in team from alice"
    And the invitation carol received has:
      | info.status   | connected              |
      | info.invitees | bob, carol, dave, erin |
    And alice sees:
      """
      call-1: carol invited
      call-1: carol ringing
      """
    And bob sees "call-1: carol ringing"
    And dave and frank see nothing
    And carol's state in call-1 is ringing
    And dave's state in call-1 is busy
    And erin's state in call-1 is unavailable
    When carol accepts call-1
    Then alice and bob see "call-1: carol joined"
    And carol sees nothing more

  Scenario: An invitation into a live call times out on its own clock
    Given users alice, bob and carol
    And a group team of alice, bob and carol
    And alice places an audio call in team to bob
    And bob accepts
    And 10 seconds pass
    And alice invites carol
    When 29999 ms pass
    Then nobody sees anything
    When 1 ms passes
    Then carol sees "[40s] call-1: detached, missed"
    And alice and bob see "[40s] call-1: carol missed"
    And the call is connected
    When bob invites carol
    Then carol sees "call-1: incoming group Audio call in team from alice"
    And alice sees:
      """
      call-1: carol invited
      call-1: carol ringing
      """
    And bob sees "call-1: carol ringing"

  Scenario Outline: Invitations that are refused: <case>
    Given users alice, bob, carol and zed
    And a group team of alice, bob and carol
    And alice places an audio call in team to bob
    And bob accepts
    When alice invites <users>
    Then it fails with <code>
    And nobody sees anything more

    Examples:
      | case                        | users          | code |
      | someone already in the call | bob            | 422  |
      | the inviter itself          | alice          | 400  |
      | the same user twice         | carol and carol | 400 |
      | an unknown user             | nobody-here    | 404  |
      | a user outside the group    | zed            | 403  |

  Scenario: A 1:1 call cannot be extended by inviting
    Given users alice, bob and carol
    And alice calls bob
    And bob accepts
    When alice invites carol
    Then it fails with 403 saying "only group calls can be joined or extended"
    And carol sees nothing

  Scenario: A notify call tells without ringing; the notified join when they like
    Given users alice and carol
    And user bob with devices phone and tablet
    And a group team of alice, bob and carol
    And alice may end calls for everyone
    When alice notifies bob and carol of a video call in team
    Then bob/phone, bob/tablet and carol see "call-1: notified of a call by alice"
    And alice sees nothing
    And the call is connecting
    And alice's state in the call is joined
    And bob's state in the call is notified
    When 1 hour passes
    Then nobody sees anything
    When bob accepts
    Then it fails with 422
    When bob/tablet joins
    Then bob/phone sees "call-1: detached, answered on another device"
    And alice sees:
      """
      call-1: bob joined
      call-1: status connected
      """
    And bob/tablet sees "call-1: status connected"
    And carol sees nothing more
    When alice ends the call for everyone
    Then alice, bob/tablet and carol see "call-1: ended, ended for everyone by alice"

  Scenario: A 1:1 notify reaches a user who was offline when they connect
    Given users alice and bob
    And bob is offline
    When alice notifies bob of an audio call
    Then nobody sees anything
    When bob comes back online
    Then bob sees "call-1: notified of a call by alice"
    When bob joins
    Then alice sees:
      """
      call-1: bob joined
      call-1: status connected
      """
    And bob sees "call-1: status connected"
    When alice cancels
    Then it fails with 422
    When alice hangs up
    Then alice and bob see "call-1: ended, hung up by alice"
