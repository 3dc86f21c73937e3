@early-media
Feature: Early media
  An invitee plays media to the caller before answering (Voximplant startEarlyMedia, a ringback
  tone or an announcement). The caller's session is told. From then on the invitation is bounded by
  the early-media limit, 60 s from its start, instead of the ring timeout (Voximplant: an
  unanswered call stays in early media at most 60 s).

  Scenario: Early media is told to the caller, and the invitee can still answer
    Given users alice
    And user bob with devices phone and tablet
    And alice calls bob
    When bob/tablet starts early media
    Then alice sees "call-1: early media from bob"
    And bob/phone and bob/tablet see nothing
    And bob's state in the call is ringing
    When bob/tablet accepts
    Then alice sees:
      """
      call-1: bob joined
      call-1: status connecting
      call-1: status connected
      """
    And bob/tablet sees:
      """
      call-1: status connecting
      call-1: status connected
      """
    And bob/phone sees "call-1: detached, answered on another device"

  Scenario: An unanswered call in early media ends at 60 s, not at the ring timeout
    Given users alice and bob
    And alice calls bob
    And bob starts early media
    When 30 seconds pass
    Then nobody sees anything
    And the call is ringing
    When 29999 ms pass
    Then nobody sees anything
    When 1 ms passes
    Then alice and bob see "[60s] call-1: ended, no answer"
    And the call ended: no answer

  Scenario: The early-media limit counts from the start of early media
    Given users alice and bob
    And alice calls bob
    And 10 seconds pass
    And bob starts early media
    When 59999 ms pass
    Then nobody sees anything
    When 1 ms passes
    Then alice and bob see "[70s] call-1: ended, no answer"

  Scenario: With a ring timeout longer than the limit, early media still ends at 60 s
    Given the ring timeout is 2 minutes
    And users alice and bob
    And alice calls bob
    And bob starts early media
    When 60 seconds pass
    Then alice and bob see "[60s] call-1: ended, no answer"

  Scenario: The early-media limit is configurable
    Given the early-media limit is 20 seconds
    And users alice and bob
    And alice calls bob
    And bob starts early media
    When 19999 ms pass
    Then nobody sees anything
    When 1 ms passes
    Then alice and bob see "[20s] call-1: ended, no answer"

  Scenario Outline: Early media that is refused: <case>
    Given users alice and bob
    And alice calls bob
    And <given>
    When <who> starts early media
    Then it fails with <code>
    And nobody sees anything more

    Examples:
      | case                  | given                  | who   | code |
      | twice                 | bob starts early media | bob   | 422  |
      | by the caller         | 1 second passes        | alice | 422  |
      | after answering       | bob accepts            | bob   | 422  |

  Scenario: In a group, early media reaches the whole session, not the other ringing invitees
    Given users alice, bob, carol and dave
    And a group team of alice, bob, carol and dave
    And alice places an audio call in team to bob, carol and dave
    And bob accepts
    When carol starts early media
    Then alice and bob see "call-1: early media from carol"
    And carol and dave see nothing
    When 60 seconds pass
    Then carol sees "[60s] call-1: detached, missed"
    And dave sees "[30s] call-1: detached, missed"
    And alice and bob see:
      """
      [30s] call-1: dave missed
      [60s] call-1: carol missed
      """
    And the call is connected
